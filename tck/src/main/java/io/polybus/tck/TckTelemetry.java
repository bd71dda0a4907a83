package io.polybus.tck;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.polybus.Instrumentation;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.opentelemetry.PolybusTracing;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;

/**
 * Not API. The tracing and metrics one {@link ObservabilityTck} case installs: an OpenTelemetry SDK
 * with W3C propagation exporting ended spans to memory, and a simple meter registry. One per case,
 * so cases running side by side see only their own spans and meters. Thread-safe; close it.
 */
final class TckTelemetry implements AutoCloseable {
  final InMemorySpanExporter spans = InMemorySpanExporter.create();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final OpenTelemetrySdk otel;
  final Instrumentation instrumentation;

  TckTelemetry() {
    otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .setPropagators(
                ContextPropagators.create(
                    TextMapPropagator.composite(
                        W3CTraceContextPropagator.getInstance(),
                        W3CBaggagePropagator.getInstance())))
            .build();
    instrumentation =
        Instrumentation.compose(
            PolybusTracing.create(otel),
            PolybusMetrics.builder(meters).lagRefresh(Duration.ofMillis(200)).build());
  }

  /** Ended spans whose name is {@code name}, in start order. */
  List<SpanData> named(String name) {
    return spans.getFinishedSpanItems().stream()
        .filter(s -> s.getName().equals(name))
        .sorted(Comparator.comparingLong(SpanData::getStartEpochNanos))
        .toList();
  }

  static String attr(SpanData s, String key) {
    return s.getAttributes().get(AttributeKey.stringKey(key));
  }

  static Long longAttr(SpanData s, String key) {
    return s.getAttributes().get(AttributeKey.longKey(key));
  }

  /** The count of the counter {@code name} with tag {@code tagKey=tagValue}, 0 when absent. */
  double count(String name, String tagKey, String tagValue) {
    Counter c = meters.find(name).tag(tagKey, tagValue).counter();
    return c == null ? 0 : c.count();
  }

  /** The timer {@code name}'s count with tags {@code destination} and {@code outcome}. */
  long timed(String name, String destination, String outcome) {
    return meters
        .find(name)
        .tag("messaging.destination.name", destination)
        .tag("polybus.outcome", outcome)
        .timers()
        .stream()
        .mapToLong(Timer::count)
        .sum();
  }

  /** The value of gauge {@code name} for {@code destination}, or NaN when there is none. */
  double gauge(String name, String destination) {
    Gauge g = meters.find(name).tag("messaging.destination.name", destination).gauge();
    return g == null ? Double.NaN : g.value();
  }

  @Override
  public void close() {
    otel.close();
    meters.close();
  }
}
