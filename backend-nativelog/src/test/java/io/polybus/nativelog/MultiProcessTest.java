package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real processes sharing one log directory: group members in other JVMs, and writers killed with
 * SIGKILL.
 */
@Timeout(300)
class MultiProcessTest {
  @TempDir Path dir;

  private static Process child(Path log, String... args) throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                Children.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private static void await(java.util.function.BooleanSupplier c, String what)
      throws InterruptedException {
    await(c, () -> what);
  }

  private static void await(
      java.util.function.BooleanSupplier c, java.util.function.Supplier<String> what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what.get());
      }
      Thread.sleep(20);
    }
  }

  private static List<String> lines(Path f) {
    try {
      return Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void membersInTwoProcessesSplitTheWorkAndASurvivorTakesOverWhenOneIsKilled() throws Exception {
    Path data = dir.resolve("log");
    String uri = "log:" + data + "?partitions=4&segmentSize=4m";
    Path a = dir.resolve("a.txt");
    Path b = dir.resolve("b.txt");
    Process pa = child(dir.resolve("a.log"), "consume", uri, "orders", "g", a.toString());
    Process pb = child(dir.resolve("b.log"), "consume", uri, "orders", "g", b.toString());
    try {
      await(
          () ->
              Files.exists(dir.resolve("a.txt.ready")) && Files.exists(dir.resolve("b.txt.ready")),
          () ->
              "both members to join; a: "
                  + lines(dir.resolve("a.log"))
                  + " b: "
                  + lines(dir.resolve("b.log")));
      int keys = 40;
      int perKey = 250;
      int rounds = 0;
      try (Polybus bus = Polybus.connect(uri)) {
        boolean killed = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // Rounds of one message per key. Past half way the second member is killed as soon as both
        // have handled
        // messages; the publisher keeps going meanwhile, because a member that joined last may get
        // its partitions
        // only after the first one has drained everything published so far.
        for (int i = 0; i < perKey || !killed; i++) {
          List<Message> batch = new ArrayList<>();
          for (int k = 0; k < keys; k++) {
            batch.add(Message.builder().key("key" + k).payload(Integer.toString(i)).build());
          }
          bus.publishAllAndWait("orders", batch);
          rounds = i + 1;
          if (!killed && i >= perKey / 2) {
            if (!lines(a).isEmpty() && !lines(b).isEmpty()) {
              pb.destroyForcibly().waitFor();
              killed = true;
            } else if (System.nanoTime() > deadline) {
              throw new AssertionError(
                  "both members never handled messages: a "
                      + lines(a).size()
                      + ", b "
                      + lines(b).size()
                      + "; a: "
                      + lines(dir.resolve("a.log"))
                      + " b: "
                      + lines(dir.resolve("b.log")));
            } else {
              Thread.sleep(10);
            }
          }
        }
      }
      int total = keys * rounds;
      await(() -> handled(a, b).size() == total, "every message to be handled");
      // Per key, each member handled its messages in publish order (a redelivery may repeat a tail,
      // never go back
      // before what the member itself had done).
      for (Path f : List.of(a, b)) {
        Map<String, Integer> last = new HashMap<>();
        for (String line : lines(f)) {
          String[] parts = line.split(" ");
          int seq = Integer.parseInt(parts[1]);
          Integer prev = last.put(parts[0], seq);
          assertThat(prev == null || seq > prev)
              .as("order of %s in %s: %s after %s", parts[0], f, seq, prev)
              .isTrue();
        }
      }
    } finally {
      pa.destroyForcibly().waitFor();
      pb.destroyForcibly().waitFor();
    }
  }

  /** The last index a publisher child reported as confirmed, or -1. */
  private static int lastConfirmed(Path out) {
    int last = -1;
    for (String line : lines(out)) {
      if (line.startsWith("confirmed ")) {
        last = Integer.parseInt(line.substring(10).trim());
      }
    }
    return last;
  }

  private static Set<String> handled(Path... files) {
    Set<String> all = new HashSet<>();
    for (Path f : files) {
      all.addAll(lines(f));
    }
    return all;
  }

  @Test
  void aWriterKilledAtRandomPointsNeverLosesAConfirmedPublishNorLeavesACorruptRecord()
      throws Exception {
    Path data = dir.resolve("log");
    String uri = "log:" + data + "?partitions=2&segmentSize=2m&maxPayload=64k&stallTimeout=200ms";
    Random random = new Random(42);
    Map<String, Integer> confirmed = new ConcurrentHashMap<>();
    int runs = 6;
    for (int r = 0; r < runs; r++) {
      String prefix = "run" + r;
      // Output goes to a file, not a pipe: what the child wrote before SIGKILL is all in the file
      // (a pipe read by
      // this JVM can lose its last lines when the reaper drains it at process exit).
      Path outFile = dir.resolve(prefix + ".out");
      Process p =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-Xmx256m",
                  "-cp",
                  System.getProperty("java.class.path"),
                  Children.class.getName(),
                  "publish",
                  uri,
                  "crash",
                  prefix,
                  "1000000")
              .redirectOutput(outFile.toFile())
              .redirectError(
                  ProcessBuilder.Redirect.appendTo(dir.resolve("publisher.err").toFile()))
              .start();
      await(() -> lastConfirmed(outFile) >= 0, "the publisher to confirm its first message");
      Thread.sleep(50 + random.nextInt(400));
      p.destroyForcibly().waitFor(); // SIGKILL
      confirmed.put(prefix, lastConfirmed(outFile));
    }
    // Every confirmed publish is there, in order per run, and everything delivered is a well-formed
    // message.
    Map<String, Integer> next = new HashMap<>();
    Set<String> bad = new HashSet<>();
    try (Polybus bus = Polybus.connect(uri)) {
      Subscription s =
          bus.subscribe(
              "crash",
              "verify",
              d -> {
                String[] parts = d.message().payloadAsString().split(":");
                synchronized (next) {
                  if (parts.length != 2 || !d.message().key().startsWith(parts[0] + "-k")) {
                    bad.add(d.message().payloadAsString());
                    return;
                  }
                  next.merge(parts[0] + "/" + d.message().key(), 1, Integer::sum);
                  next.merge(parts[0], 1, Integer::sum);
                  next.merge(parts[0] + "/max", Integer.parseInt(parts[1]), Math::max);
                }
              },
              SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      await(
          () -> {
            synchronized (next) {
              return confirmed.entrySet().stream()
                  .allMatch(e -> next.getOrDefault(e.getKey(), 0) > e.getValue());
            }
          },
          () -> {
            synchronized (next) {
              return "every confirmed publish to be delivered: confirmed "
                  + confirmed
                  + ", delivered "
                  + next;
            }
          });
      s.close();
    }
    assertThat(bad).isEmpty();
    for (Map.Entry<String, Integer> e : confirmed.entrySet()) {
      // At most one more than confirmed may exist (appended, killed before the confirmation was
      // printed).
      assertThat(next.get(e.getKey() + "/max")).isBetween(e.getValue(), e.getValue() + 1);
      assertThat(next.get(e.getKey()))
          .isEqualTo(next.get(e.getKey() + "/max") + 1); // no gap, no duplicate
    }
    assertThat(new File(dir.toFile(), "publisher.err"))
        .satisfiesAnyOf(
            f -> assertThat(f).doesNotExist(),
            f -> assertThat(Files.readString(f.toPath())).doesNotContain("Exception"));
  }
}
