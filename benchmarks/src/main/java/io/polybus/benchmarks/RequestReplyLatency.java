package io.polybus.benchmarks;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Round-trip latency of {@link Polybus#request}: a requester bus and a responder bus (separate
 * connections, one JVM, one machine), the responder echoing the payload. Each backend gets {@code
 * --warmup} requests that are not recorded, then {@code --rounds} rounds of {@code --requests}
 * requests each, recorded in an HdrHistogram from just before {@code request} to the completion of
 * its future; with {@code --inflight N} (default 1: sequential) N requests are kept in flight, each
 * replaced when it completes. Prints p50/p99/p99.9 per round and the medians over the rounds.
 *
 * <p>Usage: {@code RequestReplyLatency [--uris mem:,log:,kafka://...] [--requests 2000] [--warmup
 * 500] [--rounds 3] [--inflight 1]}; {@code log:} alone means a log in a fresh temp directory.
 */
public final class RequestReplyLatency {
  private static final List<String> DEFAULT_URIS =
      List.of(
          "mem:",
          "log:",
          "kafka://127.0.0.1:9092",
          "redis://127.0.0.1:6379",
          "rabbitmq://guest:guest@127.0.0.1:5672",
          "sqs://127.0.0.1:9324?region=us-east-1",
          "postgres://postgres@127.0.0.1:5432/test");

  public static void main(String[] args) throws Exception {
    List<String> uris = DEFAULT_URIS;
    int requests = 2000;
    int warmup = 500;
    int rounds = 3;
    int inflight = 1;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--uris" -> uris = Arrays.asList(v.split(","));
        case "--requests" -> requests = Integer.parseInt(v);
        case "--warmup" -> warmup = Integer.parseInt(v);
        case "--rounds" -> rounds = Integer.parseInt(v);
        case "--inflight" -> inflight = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    List<String> table = new ArrayList<>();
    for (String uri : uris) {
      Path dir = null;
      String target = uri;
      if (uri.equals("log:")) {
        dir = Files.createTempDirectory("polybus-rr-");
        target = "log:" + dir;
      }
      try (Dirs.DeleteOnClose cleanup = Dirs.deleteOnClose(dir)) {
        double[][] r = run(target, requests, warmup, rounds, inflight);
        table.add(
            String.format(
                Locale.ROOT,
                "| %s | %d | %.0f | %.0f | %.0f |",
                uri.replaceAll("//[^@/]*@", "//"),
                inflight,
                Stats.median(r[0]),
                Stats.median(r[1]),
                Stats.median(r[2])));
      } catch (Exception e) {
        table.add("| " + uri + " | " + inflight + " | failed: " + e + " | | |");
      }
    }
    System.out.println();
    System.out.println("| backend | in flight | p50 µs | p99 µs | p99.9 µs |");
    System.out.println("|---|---|---|---|---|");
    table.forEach(System.out::println);
  }

  /** {p50[], p99[], p999[]} in microseconds, one entry per round. */
  private static double[][] run(String uri, int requests, int warmup, int rounds, int inflight)
      throws Exception {
    double[][] out = new double[3][rounds];
    String topic = "rr-bench-" + UUID.randomUUID().toString().substring(0, 8);
    try (Polybus responder = Polybus.connect(uri);
        Polybus requester = Polybus.connect(uri)) {
      Subscription s =
          responder.respond(
              topic,
              "responders",
              d -> Message.of(d.message().payload()),
              SubscribeOptions.builder().ordering(Ordering.NONE).concurrency(8).build());
      byte[] payload = new byte[100];
      round(requester, topic, payload, warmup, inflight, new Histogram(3_600_000_000L, 3));
      for (int r = 0; r < rounds; r++) {
        Histogram h = new Histogram(3_600_000_000L, 3);
        round(requester, topic, payload, requests, inflight, h);
        out[0][r] = h.getValueAtPercentile(50) / 1000.0;
        out[1][r] = h.getValueAtPercentile(99) / 1000.0;
        out[2][r] = h.getValueAtPercentile(99.9) / 1000.0;
        System.out.printf(
            Locale.ROOT,
            "%s round %d: p50 %.0f µs, p99 %.0f µs, p99.9 %.0f µs%n",
            uri.replaceAll("//[^@/]*@", "//"),
            r + 1,
            out[0][r],
            out[1][r],
            out[2][r]);
      }
      s.close(Duration.ofSeconds(5));
    }
    return out;
  }

  /** {@code count} requests, {@code inflight} at a time, their round trips recorded in ns. */
  private static void round(
      Polybus requester, String topic, byte[] payload, int count, int inflight, Histogram h)
      throws Exception {
    CompletableFuture<?>[] slots = new CompletableFuture<?>[inflight];
    int sent = 0;
    for (int i = 0; i < inflight && sent < count; i++, sent++) {
      slots[i] = one(requester, topic, payload, h);
    }
    while (true) {
      boolean any = false;
      for (int i = 0; i < inflight; i++) {
        if (slots[i] == null) {
          continue;
        }
        any = true;
        slots[i].get(60, TimeUnit.SECONDS);
        slots[i] = sent < count ? one(requester, topic, payload, h) : null;
        if (slots[i] != null) {
          sent++;
        }
      }
      if (!any) {
        return;
      }
    }
  }

  private static CompletableFuture<?> one(
      Polybus requester, String topic, byte[] payload, Histogram h) {
    long start = System.nanoTime();
    return requester
        .request(topic, Message.of(payload), Duration.ofSeconds(30))
        .thenRun(
            () -> {
              synchronized (h) {
                h.recordValue(System.nanoTime() - start);
              }
            });
  }
}
