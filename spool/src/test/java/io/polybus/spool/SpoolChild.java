package io.polybus.spool;

import io.polybus.Message;
import io.polybus.Polybus;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The publishing process of {@link SpoolCrashTest}, run in a child JVM until done or killed.
 *
 * <p>{@code <uri> <spool dir> <topic> <from> <to> <completions file> <per second>}: publishes
 * messages {@code from} to {@code to - 1} through a spool, paced, up to 200 in flight; message
 * {@code i} has id {@code m-<i>} (so a message published again after a crash is a duplicate with
 * the same id), key {@code k<i % 100>} and header {@code n=<i>}. When a publish completes it
 * appends {@code <i> <id> sent|spooled|failed} to the completions file (flushed to the OS at once,
 * so it survives a SIGKILL). After the last one it waits until the spool has forwarded everything.
 */
public final class SpoolChild {
  static final int KEYS = 100;

  private SpoolChild() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    Path dir = Path.of(args[1]);
    String topic = args[2];
    int from = Integer.parseInt(args[3]);
    int to = Integer.parseInt(args[4]);
    Path out = Path.of(args[5]);
    int rate = Integer.parseInt(args[6]);
    SpoolOptions options =
        SpoolOptions.builder(dir)
            .sendTimeout(Duration.ofSeconds(10))
            .retryBackoff(Duration.ofMillis(100), Duration.ofSeconds(2))
            .build();
    try (Spool spool = Spool.open(connect(uri), options);
        PrintStream file =
            new PrintStream(
                new FileOutputStream(out.toFile(), true), false, StandardCharsets.UTF_8)) {
      System.out.println("opened, pending " + spool.pending().messages());
      System.out.flush();
      Semaphore window = new Semaphore(200);
      long start = System.nanoTime();
      for (int i = from; i < to; i++) {
        long due = start + (i - from) * 1_000_000_000L / rate;
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
          LockSupport.parkNanos(wait);
        }
        window.acquire();
        Message m = message(i);
        int n = i;
        spool
            .publish(topic, m)
            .whenComplete(
                (r, e) -> {
                  synchronized (file) {
                    file.println(
                        n
                            + " "
                            + m.id()
                            + " "
                            + (e != null ? "failed" : r.spooled() ? "spooled" : "sent"));
                    file.flush();
                  }
                  window.release();
                });
      }
      window.acquire(200);
      System.out.println("published, pending " + spool.pending().messages());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (spool.pending().messages() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      System.out.println("drained, pending " + spool.pending().messages());
    }
    System.out.println("done");
  }

  /**
   * A bus on {@code uri}, retrying while the broker is down: a RabbitMQ bus connects when it is
   * opened (a Kafka bus does not), so a process starting during an outage waits here.
   */
  private static Polybus connect(String uri) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (true) {
      try {
        return Polybus.connect(uri);
      } catch (io.polybus.PolybusException e) {
        if (!e.isTransient() || System.nanoTime() > deadline) {
          throw e;
        }
        System.out.println("cannot connect yet: " + e);
        Thread.sleep(500);
      }
    }
  }

  static Message message(int i) {
    return Message.builder()
        .id("m-" + i)
        .key("k" + (i % KEYS))
        .payload("m" + i)
        .header("n", Integer.toString(i))
        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .build();
  }
}
