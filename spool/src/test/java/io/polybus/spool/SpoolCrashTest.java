package io.polybus.spool;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test: a publisher in a child JVM writes 10,000 keyed messages through a spool, the
 * broker is stopped for 60 s in the middle, the publisher is killed with SIGKILL during the outage
 * and started again on the same spool directory (it forwards what its predecessor left and goes on
 * with the rest), the broker comes back. Then: every publish that completed (sent or spooled) is
 * delivered, per key in publish order, and any duplicate has the same id. About 100 s per broker.
 */
class SpoolCrashTest {
  private static final int COUNT = 10_000;
  private static final int RATE = 120;
  private static final Duration OUTAGE = Duration.ofSeconds(60);

  @TempDir Path tmp;

  @Test
  @org.junit.jupiter.api.Timeout(300)
  void everyCompletedPublishArrivesInKeyOrderThroughAKafkaOutageAndAKilledPublisher()
      throws Exception {
    try (PrivateKafka kafka = PrivateKafka.start(tmp)) {
      run(kafka, kafka.uri() + "?publishTimeout=2s&linger=1ms", RATE);
    }
  }

  /**
   * The same against a RabbitMQ node of the test's own. A RabbitMQ bus connects when it is opened,
   * so the restarted publisher cannot open its bus (nor its spool) until the broker is back: it
   * then forwards its predecessor's backlog first and publishes the rest faster, to stay within the
   * test's time.
   */
  @Test
  @org.junit.jupiter.api.Timeout(300)
  void everyCompletedPublishArrivesInKeyOrderThroughARabbitMqOutageAndAKilledPublisher()
      throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        PrivateRabbit.available(), "rabbitmq-server is not installed");
    try (PrivateRabbit rabbit = PrivateRabbit.start(tmp)) {
      run(rabbit, rabbit.uri() + "?publishTimeout=2s", 4 * RATE);
    }
  }

  private void run(PrivateBroker broker, String uri, int restartedRate) throws Exception {
    String topic = "spool-crash-" + System.nanoTime();
    Path dir = tmp.resolve("spool");
    Path completions = tmp.resolve("completions.txt");
    Path log = tmp.resolve("child.log");
    Inbox inbox = new Inbox();
    long t0 = System.nanoTime();
    try (Polybus consumer = Polybus.connect(uri)) {
      consumer.subscribe(
          topic, "check", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      Process first = child(log, uri, dir, topic, 0, completions, RATE);
      await(() -> lines(completions).size() >= 1500, "1500 publishes completed", first, log);
      broker.stop();
      long down = System.nanoTime();
      await(() -> lines(completions).size() >= 4000, "4000 publishes completed", first, log);
      first.destroyForcibly(); // SIGKILL
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      int resumeAt = completed(completions).keySet().stream().max(Integer::compare).orElse(-1) + 1;
      Process second = child(log, uri, dir, topic, resumeAt, completions, restartedRate);
      long upAt = down + OUTAGE.toNanos();
      while (System.nanoTime() < upAt) {
        assertThat(second.isAlive()).as("the restarted publisher runs, see %s", log).isTrue();
        Thread.sleep(100); // holding the outage, not waiting for a result
      }
      broker.start();
      assertThat(second.waitFor(150, TimeUnit.SECONDS)).as("publisher done, see %s", log).isTrue();
      assertThat(second.exitValue()).as("exit code, see %s", log).isZero();

      Map<Integer, String> done = completed(completions);
      Map<String, Integer> idToN = new HashMap<>();
      done.forEach((n, id) -> idToN.put(id, n));
      inbox.awaitIds(idToN.keySet(), Duration.ofSeconds(60), "every completed publish");

      List<Message> delivered = inbox.messages();
      Map<Integer, Set<String>> idsOfN = new HashMap<>();
      Map<String, Integer> lastOfKey = new HashMap<>();
      Set<String> seen = new HashSet<>();
      List<String> duplicates = new ArrayList<>();
      for (Message m : delivered) {
        int n = Integer.parseInt(m.header("n"));
        idsOfN.computeIfAbsent(n, k -> new HashSet<>()).add(m.id());
        if (!seen.add(m.id())) {
          duplicates.add(m.id());
          continue; // order is about first copies
        }
        Integer before = lastOfKey.put(m.key(), n);
        assertThat(before == null || before < n)
            .as("first copy of %s after %s on key %s", n, before, m.key())
            .isTrue();
      }
      idsOfN.forEach(
          (n, ids) -> assertThat(ids).as("ids of message %s", n).containsExactly("m-" + n));
      String childLog = Files.readString(log, StandardCharsets.UTF_8);
      long spooled = lines(completions).stream().filter(l -> l.endsWith(" spooled")).count();
      long failed = lines(completions).stream().filter(l -> l.endsWith(" failed")).count();
      assertThat(failed).as("failed publishes, see %s", completions).isZero();
      assertThat(childLog)
          .as("the restarted publisher found a backlog")
          .containsPattern("opened, pending [1-9]");
      System.out.printf(
          "%s: %d completed (%d spooled), resumed at %d after the kill, %d delivered, %d"
              + " duplicates %s, %d s%n%s%n",
          broker.getClass().getSimpleName(),
          done.size(),
          spooled,
          resumeAt,
          delivered.size(),
          duplicates.size(),
          duplicates.size() > 20 ? duplicates.subList(0, 20) + "..." : duplicates,
          TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0),
          childLog);
    }
  }

  private static Process child(
      Path log, String uri, Path dir, String topic, int from, Path completions, int rate)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-cp",
                System.getProperty("java.class.path"),
                SpoolChild.class.getName(),
                uri,
                dir.toString(),
                topic,
                Integer.toString(from),
                Integer.toString(COUNT),
                completions.toString(),
                Integer.toString(rate)));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  /** Message number → id of every completed (sent or spooled) publish in the file. */
  private static Map<Integer, String> completed(Path completions) {
    Map<Integer, String> m = new HashMap<>();
    for (String line : lines(completions)) {
      String[] f = line.split(" ");
      if (f.length == 3 && (f[2].equals("sent") || f[2].equals("spooled"))) {
        m.put(Integer.parseInt(f[0]), f[1]);
      }
    }
    return m;
  }

  private static List<String> lines(Path f) {
    try {
      if (!Files.exists(f)) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
        if (l.matches("\\d+ m-\\d+ (sent|spooled|failed)")) { // a SIGKILL may cut the last line
          out.add(l);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void await(BooleanSupplier c, String what, Process p, Path log)
      throws InterruptedException {
    await(c, () -> what, p, log);
  }

  private static void await(BooleanSupplier c, Supplier<String> what, Process p, Path log)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!c.getAsBoolean()) {
      assertThat(p.isAlive()).as("the publisher runs, see %s", log).isTrue();
      assertThat(System.nanoTime()).as("waiting for %s", what.get()).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
