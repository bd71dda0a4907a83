package io.polybus.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The bus's one LISTEN connection: a thread waits on {@link PGConnection#getNotifications(int)} for
 * the schema's channel (the fan-out trigger notifies it with the topic's name at every commit of an
 * insert) and wakes the consumers of that topic. Consumers also poll every {@code pollInterval}, so
 * a lost connection only makes wake-ups slower until it is back (it reconnects with backoff), and
 * delayed retries and expired leases, which no insert announces, are found anyway.
 *
 * <p>Thread-safe. Started with the first subscription; owned and closed by the backend.
 */
final class Notifier implements Runnable {
  private static final System.Logger LOG = System.getLogger("io.polybus.postgres");

  private final Connections pool;
  private final PgSettings settings;
  private final Map<String, Set<PgConsumer>> byTopic = new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile Connection connection;
  private Thread thread;

  Notifier(Connections pool, PgSettings settings) {
    this.pool = pool;
    this.settings = settings;
  }

  synchronized void register(PgConsumer c) {
    byTopic.computeIfAbsent(c.topic(), t -> ConcurrentHashMap.newKeySet()).add(c);
    if (thread == null && !closed) {
      thread = new Thread(this, "polybus-postgres-listen-" + settings.schema());
      thread.setDaemon(true);
      thread.start();
    }
  }

  void unregister(PgConsumer c) {
    Set<PgConsumer> s = byTopic.get(c.topic());
    if (s != null) {
      s.remove(c);
    }
  }

  @Override
  public void run() {
    long backoff = 100;
    while (!closed) {
      Connection c = null;
      try {
        c = pool.openDedicated();
        connection = c;
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN \"" + settings.channel() + "\"");
        }
        // Anything published while we were not listening: let every consumer look once.
        byTopic.values().forEach(s -> s.forEach(PgConsumer::nudge));
        backoff = 100;
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] ns = pg.getNotifications(500);
          if (ns == null) {
            continue;
          }
          for (PGNotification n : ns) {
            Set<PgConsumer> s = byTopic.get(n.getParameter());
            if (s != null) {
              s.forEach(PgConsumer::nudge);
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!closed) {
          LOG.log(
              System.Logger.Level.DEBUG,
              () ->
                  "LISTEN connection to "
                      + settings.where()
                      + " lost, reconnecting: "
                      + PgErrors.message(e, settings));
        }
      } finally {
        connection = null;
        Connections.closeQuietly(c);
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        return;
      }
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  void close() {
    Thread t;
    synchronized (this) {
      closed = true;
      t = thread;
    }
    Connections.closeQuietly(connection);
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
