package io.polybus.cli;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code polybus bench}: publishes {@code --messages} messages to a fresh topic while one
 * subscriber (the library's defaults) consumes them, and reports publish and consume throughput and
 * the publish→handler latency (HdrHistogram; the send time travels in the payload's first 8 bytes,
 * one JVM so one clock).
 *
 * <p>One instance per invocation; not thread-safe (the handler side is: atomics and a concurrent
 * histogram).
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure publish and consume throughput and publish->handler latency on a fresh topic",
      "(left behind afterwards: bench-<random>). --html FILE writes a report with a chart."
    })
final class BenchCommand implements Callable<Integer> {
  private static final int WINDOW = 1000;

  @Mixin Connection connection;

  @Option(names = "--messages", paramLabel = "N", defaultValue = "10000")
  int messages;

  @Option(
      names = "--size",
      paramLabel = "BYTES",
      defaultValue = "100",
      description = "Payload size, at least 8 (default: 100).")
  int size;

  @Option(names = "--keys", paramLabel = "N", defaultValue = "16", description = "Distinct keys.")
  int keys;

  @Option(
      names = "--rate",
      paramLabel = "MSG/S",
      description = "Publish at most this many per second (default: as fast as confirms allow).")
  Double rate;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "120s",
      converter = Durations.class,
      description = "Give up waiting for the consumer after this long (default: 120s).")
  Duration timeout;

  @Option(names = "--html", paramLabel = "FILE", description = "Write an HTML report.")
  Path html;

  @Override
  public Integer call() throws Exception {
    if (messages < 1 || size < 8 || keys < 1 || (rate != null && !(rate > 0))) {
      throw new CliException(
          ExitCode.USAGE, "need --messages >= 1, --size >= 8, --keys >= 1, --rate > 0");
    }
    String topic = "bench-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    Histogram latency = new ConcurrentHistogram(TimeUnit.MINUTES.toMicros(10), 3);
    CountDownLatch consumed = new CountDownLatch(messages);
    AtomicLong firstHandled = new AtomicLong();
    AtomicLong lastHandled = new AtomicLong();
    try (Polybus bus = connection.connect()) {
      Subscription sub =
          bus.subscribe(
              topic,
              "bench",
              d -> {
                long now = System.nanoTime();
                long sent = ByteBuffer.wrap(d.message().payload()).getLong(0);
                latency.recordValue(Math.max(0, (now - sent) / 1000));
                firstHandled.compareAndSet(0, now);
                lastHandled.set(now);
                consumed.countDown();
              },
              SubscribeOptions.defaults());
      byte[] filler = new byte[size];
      ThreadLocalRandom.current().nextBytes(filler);
      Semaphore window = new Semaphore(WINDOW);
      List<CompletableFuture<?>> all = new ArrayList<>(messages);
      long start = System.nanoTime();
      for (int i = 0; i < messages; i++) {
        if (rate != null) {
          long due = start + (long) (i * 1e9 / rate);
          for (long w; (w = due - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(w);
          }
        }
        window.acquire();
        byte[] payload = filler.clone();
        ByteBuffer.wrap(payload).putLong(0, System.nanoTime());
        Message m = Message.builder().key("key-" + (i % keys)).payload(payload).build();
        all.add(bus.publish(topic, m).whenComplete((r, e) -> window.release()));
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
      long published = System.nanoTime();
      boolean complete = consumed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
      sub.close(Duration.ofSeconds(5));
      long handled = messages - consumed.getCount();
      BenchResult result =
          new BenchResult(
              bus.options().redacted(),
              messages,
              size,
              keys,
              published - start,
              handled,
              (complete ? lastHandled.get() : System.nanoTime()) - start,
              latency);
      result.print(Io.out());
      if (html != null) {
        BenchReport.write(html, result);
        Io.err().println("report written to " + html);
      }
      if (!complete) {
        Io.err()
            .println(
                String.format(
                    Locale.ROOT,
                    "polybus: only %d of %d messages consumed within %s",
                    handled,
                    messages,
                    timeout));
        return ExitCode.INCOMPLETE;
      }
    }
    return ExitCode.OK;
  }
}
