package io.polybus.samples;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.polybus.Instrumentation;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.opentelemetry.PolybusTracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The demo's observability, wired the way an application would: Micrometer metrics always, and
 * OpenTelemetry tracing when asked for, exporting spans to an exporter of the demo's own that keeps
 * them in memory so the poison order's trace can be printed at the end. An application would
 * install an OTLP exporter instead; the two {@code Instrumentation} lines are the same.
 *
 * <p>Thread-safe; one per run.
 */
final class PipelineTelemetry implements AutoCloseable {
  /** Spans kept for the trace printout at most; a longer run prints what it kept. */
  private static final int MAX_SPANS = 500_000;

  private static final AttributeKey<String> MESSAGE_ID =
      AttributeKey.stringKey("messaging.message.id");
  private static final AttributeKey<String> GROUP =
      AttributeKey.stringKey("messaging.consumer.group.name");

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final OpenTelemetrySdk otel;
  private final KeepingExporter spans;

  PipelineTelemetry(boolean traces) {
    // Percentiles are a registry-side choice in Micrometer, not the instrumentation's.
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public DistributionStatisticConfig configure(
                  Meter.Id id, DistributionStatisticConfig config) {
                if (id.getName().equals(PolybusMetrics.PROCESS_DURATION)) {
                  return DistributionStatisticConfig.builder()
                      .percentiles(0.5, 0.99)
                      .build()
                      .merge(config);
                }
                return config;
              }
            });
    if (traces) {
      spans = new KeepingExporter();
      otel =
          OpenTelemetrySdk.builder()
              .setTracerProvider(
                  SdkTracerProvider.builder()
                      .addSpanProcessor(SimpleSpanProcessor.create(spans))
                      .build())
              .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
              .build();
    } else {
      spans = null;
      otel = null;
    }
  }

  /** What the bus is connected with. */
  Instrumentation instrumentation() {
    PolybusMetrics metrics =
        PolybusMetrics.builder(registry).lagRefresh(Duration.ofMillis(100)).build();
    return otel == null ? metrics : Instrumentation.compose(PolybusTracing.create(otel), metrics);
  }

  /** One service's figures, read from the meters. */
  OrderPipeline.Figures figures(String topic, String group) {
    long consumed = (long) counter(PolybusMetrics.CONSUMED, topic, group);
    long retried = (long) counter(PolybusMetrics.RETRIES, topic, group);
    long dead = (long) counter(PolybusMetrics.DEAD_LETTERS, topic, group);
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    Timer acked =
        registry
            .find(PolybusMetrics.PROCESS_DURATION)
            .tag("messaging.destination.name", topic)
            .tag("messaging.consumer.group.name", group)
            .tag("polybus.outcome", "ack")
            .timers()
            .stream()
            .filter(t -> t.getId().getTag("error.type") == null)
            .findFirst()
            .orElse(null);
    if (acked != null) {
      for (ValueAtPercentile v : acked.takeSnapshot().percentileValues()) {
        if (v.percentile() == 0.5) {
          p50 = v.value(TimeUnit.MILLISECONDS);
        } else if (v.percentile() == 0.99) {
          p99 = v.value(TimeUnit.MILLISECONDS);
        }
      }
    }
    Gauge lag =
        registry
            .find(PolybusMetrics.LAG)
            .tag("messaging.destination.name", topic)
            .tag("messaging.consumer.group.name", group)
            .gauge();
    return new OrderPipeline.Figures(
        group, consumed, retried, dead, p50, p99, lag == null ? Double.NaN : lag.value());
  }

  private double counter(String name, String topic, String group) {
    return registry
        .find(name)
        .tag("messaging.destination.name", topic)
        .tag("messaging.consumer.group.name", group)
        .counters()
        .stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  /**
   * The trace of the message with {@code messageId}, as an indented tree of its spans in start
   * order; empty without tracing or when its send span was not kept.
   */
  List<String> traceOf(String messageId) {
    if (spans == null) {
      return List.of();
    }
    Collection<SpanData> all = spans.kept;
    String traceId = null;
    for (SpanData s : all) {
      if (s.getName().startsWith("send ") && messageId.equals(s.getAttributes().get(MESSAGE_ID))) {
        traceId = s.getTraceId();
        break;
      }
    }
    if (traceId == null) {
      return List.of();
    }
    Map<String, List<SpanData>> children = new ConcurrentHashMap<>();
    List<SpanData> roots = new ArrayList<>();
    java.util.Set<String> ids = new java.util.HashSet<>();
    List<SpanData> trace = new ArrayList<>();
    for (SpanData s : all) {
      if (s.getTraceId().equals(traceId)) {
        trace.add(s);
        ids.add(s.getSpanId());
      }
    }
    trace.sort(Comparator.comparingLong(SpanData::getStartEpochNanos));
    for (SpanData s : trace) {
      if (ids.contains(s.getParentSpanId())) {
        children.computeIfAbsent(s.getParentSpanId(), k -> new ArrayList<>()).add(s);
      } else {
        roots.add(s);
      }
    }
    List<String> lines = new ArrayList<>();
    lines.add("trace " + traceId + " (" + trace.size() + " spans)");
    for (SpanData r : roots) {
      render(r, children, "  ", lines::add);
    }
    return lines;
  }

  private static void render(
      SpanData s, Map<String, List<SpanData>> children, String indent, Consumer<String> out) {
    StringBuilder b = new StringBuilder(indent).append(s.getName());
    String group = s.getAttributes().get(GROUP);
    if (group != null) {
      b.append("  group=").append(group);
    }
    Long attempt = s.getAttributes().get(PolybusTracing.ATTEMPT);
    if (attempt != null) {
      b.append(" attempt=").append(attempt);
    }
    String outcome = s.getAttributes().get(PolybusTracing.OUTCOME);
    if (outcome != null) {
      b.append(" outcome=").append(outcome);
    }
    String reason = s.getAttributes().get(PolybusTracing.DEAD_LETTER_REASON);
    if (reason != null) {
      b.append(" reason=\"").append(reason).append('"');
    }
    b.append(
        String.format(
            "  (%s, %.1f ms)",
            s.getKind().name().toLowerCase(java.util.Locale.ROOT),
            (s.getEndEpochNanos() - s.getStartEpochNanos()) / 1e6));
    out.accept(b.toString());
    for (SpanData c : children.getOrDefault(s.getSpanId(), List.of())) {
      render(c, children, indent + "  ", out);
    }
  }

  @Override
  public void close() {
    if (otel != null) {
      otel.close();
    }
    registry.close();
  }

  /** Keeps ended spans in memory, up to {@link #MAX_SPANS}. */
  private static final class KeepingExporter implements SpanExporter {
    final ConcurrentLinkedQueue<SpanData> kept = new ConcurrentLinkedQueue<>();
    final AtomicInteger size = new AtomicInteger();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      for (SpanData s : spans) {
        if (size.incrementAndGet() <= MAX_SPANS) {
          kept.add(s);
        }
      }
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
}
