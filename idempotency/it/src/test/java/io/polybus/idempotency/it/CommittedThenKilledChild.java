package io.polybus.idempotency.it;

import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.idempotency.JdbcProcessedStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A group member in a JVM of its own, for {@link KillAfterCommitTest}: it handles deliveries with
 * the transactional JDBC form and, once the first commit is done, stops inside the ack (writes
 * {@code committed <id>} to its out file and sleeps) until the test kills it with SIGKILL. So the
 * work and the mark are committed and the broker never hears the ack.
 *
 * <p>Arguments: bus URI, topic, group, JDBC URL, marks table, effects table, out file.
 */
public final class CommittedThenKilledChild {
  private CommittedThenKilledChild() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String topic = args[1];
    String group = args[2];
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(args[3]);
    String marks = args[4];
    String effects = args[5];
    Path out = Path.of(args[6]);
    JdbcProcessedStore store = JdbcProcessedStore.builder(ds).table(marks).build();
    Handler transactional =
        store.transactional(
            (d, c) -> {
              try (var ps =
                  c.prepareStatement(
                      "INSERT INTO " + effects + " (message_id, note) VALUES (?, 'child')")) {
                ps.setString(1, d.message().id());
                ps.executeUpdate();
              }
            });
    Polybus bus = Polybus.connect(uri);
    bus.subscribe(
        topic,
        group,
        d -> transactional.handle(new HangingAck(d, out)),
        SubscribeOptions.builder()
            .ordering(Ordering.NONE)
            .ackTimeout(Duration.ofSeconds(2))
            .build());
    write(out, "ready");
    Thread.sleep(Long.MAX_VALUE);
  }

  static void write(Path out, String line) {
    try {
      Files.writeString(
          out,
          line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The delivery whose ack never reaches the broker: it reports and waits to be killed. */
  private static final class HangingAck implements Delivery {
    private final Delivery d;
    private final Path out;

    HangingAck(Delivery d, Path out) {
      this.d = d;
      this.out = out;
    }

    @Override
    public io.polybus.Message message() {
      return d.message();
    }

    @Override
    public String topic() {
      return d.topic();
    }

    @Override
    public String group() {
      return d.group();
    }

    @Override
    public int attempt() {
      return d.attempt();
    }

    @Override
    public boolean ack() {
      // Called by the transactional wrapper right after its COMMIT.
      write(out, "committed " + d.message().id());
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return false;
    }

    @Override
    public boolean retry(Duration delay) {
      return d.retry(delay);
    }

    @Override
    public boolean deadLetter(String reason) {
      return d.deadLetter(reason);
    }

    @Override
    public boolean isSettled() {
      return d.isSettled();
    }
  }
}
