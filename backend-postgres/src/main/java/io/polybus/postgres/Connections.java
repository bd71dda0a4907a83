package io.polybus.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small pool of autocommit connections for one bus: at most {@code max} open at once, borrowed
 * for one unit of work and given back. The bus needs few (each poll, settle flush, publish round or
 * health check holds one for a round trip or two), so a full pool library would not earn its place.
 * With an application's {@link javax.sql.DataSource} the pool keeps nothing idle: every borrow is a
 * {@code getConnection()} and every give-back a {@code close()}, so the application's own pool does
 * the pooling.
 *
 * <p>Thread-safe; guarded by {@link #lock}. Owned by the backend, closed with it.
 */
final class Connections implements AutoCloseable {
  /** Opens one connection; pgjdbc's {@code DriverManager} or a DataSource. */
  interface Opener {
    Connection open() throws SQLException;
  }

  /** One unit of work on a borrowed connection. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private final Opener opener;
  private final int max;
  private final boolean keepIdle;
  private final long waitNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition returned = lock.newCondition();

  /** Idle connections, most recently used last. Guarded by lock. */
  private final ArrayDeque<Connection> idle = new ArrayDeque<>();

  /** Connections out or idle. Guarded by lock. */
  private int open;

  private boolean closed;

  Connections(Opener opener, int max, boolean keepIdle, long waitMillis) {
    this.opener = opener;
    this.max = max;
    this.keepIdle = keepIdle;
    this.waitNanos = TimeUnit.MILLISECONDS.toNanos(waitMillis);
  }

  /** Runs {@code work} on a borrowed connection; a connection that failed is dropped. */
  <T> T run(Work<T> work) throws SQLException {
    Connection c = borrow();
    boolean ok = false;
    try {
      T t = work.run(c);
      ok = true;
      return t;
    } catch (SQLException | RuntimeException e) {
      ok = !PgErrors.isConnectionLost(e) && isUsable(c);
      throw e;
    } finally {
      giveBack(c, ok);
    }
  }

  /** Runs {@code work} in one transaction on a borrowed connection, committed when it returns. */
  <T> T transaction(Work<T> work) throws SQLException {
    return run(
        c -> {
          c.setAutoCommit(false);
          try {
            T t = work.run(c);
            c.commit();
            return t;
          } catch (SQLException | RuntimeException e) {
            try {
              c.rollback();
            } catch (SQLException ignored) {
              // the connection is gone; run() drops it
            }
            throw e;
          } finally {
            try {
              c.setAutoCommit(true);
            } catch (SQLException ignored) {
              // as above
            }
          }
        });
  }

  Connection borrow() throws SQLException {
    lock.lock();
    try {
      long left = waitNanos;
      while (true) {
        if (closed) {
          throw new SQLException("the bus is closed", "08003");
        }
        Connection c = idle.pollLast();
        if (c != null) {
          return c;
        }
        if (open < max) {
          open++;
          break;
        }
        if (left <= 0) {
          throw new SQLTransientConnectionException(
              "no connection of the bus's " + max + " free in time (parameter pool)", "08001");
        }
        try {
          left = returned.awaitNanos(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new SQLException("interrupted waiting for a connection", "08001", e);
        }
      }
    } finally {
      lock.unlock();
    }
    try {
      Connection c = opener.open();
      c.setAutoCommit(true);
      return c;
    } catch (SQLException | RuntimeException e) {
      lock.lock();
      try {
        open--;
        returned.signal();
      } finally {
        lock.unlock();
      }
      throw e;
    }
  }

  void giveBack(Connection c, boolean usable) {
    boolean close;
    ArrayDeque<Connection> stale = null;
    lock.lock();
    try {
      close = !usable || !keepIdle || closed;
      if (!usable && !idle.isEmpty()) {
        // A connection broke: the database restarted or the network failed, so the idle ones are
        // most likely broken too. Dropping them now spares the next few units of work a failure
        // each once the database is back.
        stale = new ArrayDeque<>(idle);
        open -= idle.size();
        idle.clear();
      }
      if (close) {
        open--;
      } else {
        idle.addLast(c);
      }
      returned.signalAll();
    } finally {
      lock.unlock();
    }
    if (close) {
      closeQuietly(c);
    }
    if (stale != null) {
      stale.forEach(Connections::closeQuietly);
    }
  }

  /** A connection the caller owns outright (the LISTEN connection); not counted in the pool. */
  Connection openDedicated() throws SQLException {
    Connection c = opener.open();
    c.setAutoCommit(true);
    return c;
  }

  private static boolean isUsable(Connection c) {
    try {
      return !c.isClosed();
    } catch (SQLException e) {
      return false;
    }
  }

  static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception ignored) {
      // nothing to do with a connection that will not close
    }
  }

  @Override
  public void close() {
    ArrayDeque<Connection> drop;
    lock.lock();
    try {
      closed = true;
      drop = new ArrayDeque<>(idle);
      open -= idle.size();
      idle.clear();
      returned.signalAll();
    } finally {
      lock.unlock();
    }
    drop.forEach(Connections::closeQuietly);
  }
}
