package io.polybus.benchmarks;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.opentelemetry.PolybusTracing;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End-to-end throughput through the public API: publish (batches of 1000) -> handler -> ack,
 * 100-byte payloads, one group, {@link Ordering#KEY} over 1000 keys. Message construction (id
 * generation included) is inside the measured time. The publisher stays at most {@code --lead}
 * messages (default 100,000) ahead of the handlers, so the run measures the steady-state pipeline
 * rather than the garbage collection of a multi-million message backlog.
 *
 * <p>Each run uses a fresh topic; the first {@code --warmup} runs are discarded; the median of the
 * measured runs is reported with min and max. {@code --uri} may be given several times: each run
 * then measures every backend once, in alternating order, and the ratio of the first to each other
 * one is printed as the median of the per-run ratios (what load coming and going on a shared
 * machine moves least). {@code --instrumented-uri} adds a backend measured with {@code
 * polybus-opentelemetry} and {@code polybus-micrometer} both installed: an OpenTelemetry SDK that
 * samples every span into a batch processor whose exporter drops them, and a simple meter registry.
 * Usage: {@code EndToEndThroughput [--uri mem:bench?retention=0]... [--instrumented-uri
 * mem:bench?retention=0]... [--messages 2000000] [--runs 7] [--warmup 3] [--concurrency 1]
 * [--max-in-flight 4096] [--lead 100000]}.
 */
public final class EndToEndThroughput {
  public static void main(String[] args) throws Exception {
    List<String> uris = new ArrayList<>();
    List<Boolean> instrumented = new ArrayList<>();
    int messages = 2_000_000;
    int runs = 7;
    int warmup = 3;
    int concurrency = 1;
    int maxInFlight = 4096;
    int lead = 100_000;
    for (int i = 0; i < args.length; i += 2) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      if (v == null) {
        throw new IllegalArgumentException("missing value for " + args[i]);
      }
      switch (args[i]) {
        case "--uri":
          uris.add(v);
          instrumented.add(false);
          break;
        case "--instrumented-uri":
          uris.add(v);
          instrumented.add(true);
          break;
        case "--messages":
          messages = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--warmup":
          warmup = Integer.parseInt(v);
          break;
        case "--concurrency":
          concurrency = Integer.parseInt(v);
          break;
        case "--max-in-flight":
          maxInFlight = Integer.parseInt(v);
          break;
        case "--lead":
          lead = Integer.parseInt(v);
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (uris.isEmpty()) {
      uris.add("mem:bench?retention=0");
      instrumented.add(false);
    }
    List<String> labels = new ArrayList<>();
    for (int u = 0; u < uris.size(); u++) {
      labels.add(uris.get(u) + (instrumented.get(u) ? " +otel+micrometer" : ""));
    }
    List<AutoCloseable> telemetry = new ArrayList<>();
    int k = uris.size();
    double[][] rates = new double[k][runs];
    List<Polybus> buses = new ArrayList<>();
    try {
      for (int u = 0; u < uris.size(); u++) {
        if (instrumented.get(u)) {
          double ratio = Double.parseDouble(System.getProperty("bench.sampled", "1"));
          OpenTelemetrySdk otel =
              OpenTelemetrySdk.builder()
                  .setTracerProvider(
                      SdkTracerProvider.builder()
                          .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(ratio)))
                          .addSpanProcessor(
                              BatchSpanProcessor.builder(new DroppingExporter()).build())
                          .build())
                  .setPropagators(
                      ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                  .build();
          SimpleMeterRegistry registry = new SimpleMeterRegistry();
          telemetry.add(otel);
          telemetry.add(registry::close);
          String which = System.getProperty("bench.instrumentation", "both");
          Instrumentation i =
              switch (which) {
                case "both" ->
                    Instrumentation.compose(
                        PolybusTracing.create(otel), PolybusMetrics.create(registry));
                case "tracing" -> PolybusTracing.create(otel);
                case "metrics" -> PolybusMetrics.create(registry);
                case "noop-otel" ->
                    PolybusTracing.create(io.opentelemetry.api.OpenTelemetry.noop());
                case "empty" -> bus -> new Instrumentation.Observer() {};
                default -> throw new IllegalArgumentException("bench.instrumentation " + which);
              };
          buses.add(Polybus.connect(uris.get(u), i));
        } else {
          buses.add(Polybus.connect(uris.get(u)));
        }
      }
      for (int r = -warmup; r < runs; r++) {
        for (int j = 0; j < k; j++) {
          int u = ((r + warmup) & 1) == 0 ? j : k - 1 - j; // alternate which backend goes first
          double rate = once(buses.get(u), messages, concurrency, maxInFlight, lead);
          if (r >= 0) {
            rates[u][r] = rate;
          }
          System.out.printf(
              Locale.ROOT,
              "%s run %d %s: %,.0f msg/s%n",
              r < 0 ? "warmup" : "measured",
              Math.abs(r),
              labels.get(u),
              rate);
        }
      }
    } finally {
      for (Polybus bus : buses) {
        bus.close();
      }
      for (AutoCloseable t : telemetry) {
        t.close();
      }
    }
    System.out.println();
    for (int u = 0; u < k; u++) {
      double[] sorted = rates[u].clone();
      Arrays.sort(sorted);
      System.out.printf(
          Locale.ROOT,
          "end-to-end %s ordering=KEY keys=1000 payload=100B concurrency=%d: median %,.0f msg/s (min %,.0f, max %,.0f,"
              + " %d runs of %,d)%n",
          labels.get(u),
          concurrency,
          sorted[runs / 2],
          sorted[0],
          sorted[runs - 1],
          runs,
          messages);
    }
    for (int u = 1; u < k; u++) {
      double[] ratios = new double[runs];
      for (int r = 0; r < runs; r++) {
        ratios[r] = rates[u][r] / rates[0][r];
      }
      Arrays.sort(ratios);
      System.out.printf(
          Locale.ROOT,
          "ratio %s / %s: %.3fx (median of per-run ratios; min %.3f, max %.3f)%n",
          labels.get(u),
          labels.get(0),
          ratios[runs / 2],
          ratios[0],
          ratios[runs - 1]);
    }
  }

  /** Exports nowhere: the cost measured is making, ending and batching the spans. */
  private static final class DroppingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  private static double once(Polybus bus, int n, int concurrency, int maxInFlight, int lead)
      throws Exception {
    String topic = "bench-e2e-" + System.nanoTime();
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong handled = new AtomicLong();
    byte[] payload = new byte[100];
    String[] keys = new String[1000];
    for (int i = 0; i < keys.length; i++) {
      keys[i] = "customer-" + i;
    }
    Subscription s =
        bus.subscribe(
            topic,
            "bench",
            d -> {
              if (handled.incrementAndGet() == n) {
                done.countDown();
              }
            },
            SubscribeOptions.builder()
                .ordering(Ordering.KEY)
                .concurrency(concurrency)
                .maxInFlight(maxInFlight)
                .build());
    long t0 = System.nanoTime();
    List<Message> batch = new ArrayList<>(1000);
    for (int i = 0; i < n; i++) {
      batch.add(Message.builder().key(keys[i % 1000]).payload(payload).build());
      if (batch.size() == 1000 || i == n - 1) {
        bus.publishAll(topic, batch);
        batch = new ArrayList<>(1000);
        // Steady state, not a backlog: the publisher stays at most `lead` messages ahead of the
        // handlers.
        while (i + 1 - handled.get() > lead) {
          Thread.onSpinWait();
          Thread.yield();
        }
      }
    }
    if (!done.await(5, TimeUnit.MINUTES)) {
      throw new IllegalStateException("only " + handled.get() + " of " + n + " handled");
    }
    long nanos = System.nanoTime() - t0;
    s.close();
    return n * 1e9 / nanos;
  }
}
