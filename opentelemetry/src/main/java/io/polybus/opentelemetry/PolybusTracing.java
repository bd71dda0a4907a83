package io.polybus.opentelemetry;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.polybus.Instrumentation;
import io.polybus.Polybus;
import java.util.Objects;

/**
 * OpenTelemetry tracing for a Polybus bus, following the OpenTelemetry semantic conventions for
 * messaging: install it with {@code Polybus.connect(uri, PolybusTracing.create(openTelemetry))}.
 *
 * <h2>Spans</h2>
 *
 * <ul>
 *   <li>{@code send {topic}} (PRODUCER), one per published message, a child of the caller's current
 *       context, or, when no span is current, of the context the message already carries in its
 *       headers (so a relay that forwards stored messages continues their trace); its context is
 *       the message's creation context, carried in the message's {@code traceparent}, {@code
 *       tracestate} and {@code baggage} headers as the configured propagator writes them (W3C Trace
 *       Context and Baggage for the SDK's usual setup).
 *   <li>{@code process {topic}} (CONSUMER), one per delivery attempt, a child of the message's
 *       creation context; the handler runs with it as the current context, so its own spans and
 *       outgoing calls join the trace. It ends when the attempt is settled and carries {@link
 *       #ATTEMPT} and {@link #OUTCOME}.
 *   <li>{@code dead_letter {dead-letter topic}} (PRODUCER), a child of the last attempt's process
 *       span; the dead-letter record carries its context instead of the original's (same trace).
 *   <li>{@code redrive {source topic}} (PRODUCER), a child of the dead-letter record's context; the
 *       republished message carries its context, so its next attempts are in the same trace.
 * </ul>
 *
 * Headers are a map: each publish, dead letter and redrive sets the trace headers, replacing any
 * older ones, so they never pile up.
 *
 * <p>Immutable and thread-safe; one instance may instrument many buses.
 */
public final class PolybusTracing implements Instrumentation {
  /** The instrumentation scope name of Polybus's tracer. */
  public static final String SCOPE = "io.polybus";

  /** The delivery attempt, from 1: {@code polybus.attempt}. */
  public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("polybus.attempt");

  /**
   * How the attempt ended: {@code ack}, {@code retry}, {@code dead_letter} or {@code given_back}:
   * {@code polybus.outcome}.
   */
  public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("polybus.outcome");

  /** The reason a message was dead-lettered: {@code polybus.dead_letter.reason}. */
  public static final AttributeKey<String> DEAD_LETTER_REASON =
      AttributeKey.stringKey("polybus.dead_letter.reason");

  private final OpenTelemetry openTelemetry;

  private PolybusTracing(OpenTelemetry openTelemetry) {
    this.openTelemetry = openTelemetry;
  }

  /** Tracing with {@code openTelemetry}'s tracer provider and propagators. */
  public static PolybusTracing create(OpenTelemetry openTelemetry) {
    return new PolybusTracing(Objects.requireNonNull(openTelemetry, "openTelemetry"));
  }

  @Override
  public Observer attach(Polybus bus) {
    Tracer tracer = openTelemetry.getTracer(SCOPE);
    TextMapPropagator propagator = openTelemetry.getPropagators().getTextMapPropagator();
    return new TracingObserver(
        tracer, propagator, Instrumentation.messagingSystem(bus.options().scheme()));
  }

  @Override
  public String toString() {
    return "PolybusTracing{" + openTelemetry + "}";
  }
}
