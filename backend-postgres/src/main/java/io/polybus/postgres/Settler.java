package io.polybus.postgres;

import java.sql.SQLException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The bus's settle thread: consumers with queued acks, releases or attempt notes line up here and
 * are flushed one after another, each flush a few statements for everything that consumer queued
 * (so acks that arrive while a flush is on the wire go out together in the next). A flush that
 * fails (the database away) is retried every 500 ms; nothing queued is dropped until the consumer
 * closes.
 *
 * <p>Thread-safe; owned by the backend; the thread starts with the first settle.
 */
final class Settler implements Runnable {
  private static final System.Logger LOG = System.getLogger("io.polybus.postgres");

  private final LinkedBlockingQueue<PgConsumer> ready = new LinkedBlockingQueue<>();
  private final String name;
  private volatile boolean closed;
  private Thread thread;

  Settler(String name) {
    this.name = name;
  }

  void schedule(PgConsumer c) {
    if (c.scheduled.compareAndSet(false, true)) {
      synchronized (this) {
        if (thread == null && !closed) {
          thread = new Thread(this, "polybus-postgres-settle-" + name);
          thread.setDaemon(true);
          thread.start();
        }
      }
      ready.add(c);
    }
  }

  @Override
  public void run() {
    while (!closed || !ready.isEmpty()) {
      PgConsumer c;
      try {
        c = ready.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (c == null) {
        continue;
      }
      c.scheduled.set(false);
      try {
        c.flush();
      } catch (SQLException | RuntimeException e) {
        LOG.log(
            System.Logger.Level.DEBUG, () -> "settle flush failed, retrying: " + e.getMessage());
        if (closed) {
          continue;
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          // closing
        }
        schedule(c);
      }
    }
  }

  void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    if (t != null) {
      t.interrupt();
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
