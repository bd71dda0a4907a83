package io.polybus.opentelemetry;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.polybus.CircuitBreaker;
import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.Subscription;
import io.polybus.spi.Messages;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The observer {@link PolybusTracing} attaches to one bus: makes the spans and moves the trace
 * context in and out of message headers. Thread-safe: it keeps no state but per-operation objects.
 */
final class TracingObserver implements Instrumentation.Observer {
  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("messaging.system");
  static final AttributeKey<String> OPERATION_NAME =
      AttributeKey.stringKey("messaging.operation.name");
  static final AttributeKey<String> OPERATION_TYPE =
      AttributeKey.stringKey("messaging.operation.type");
  static final AttributeKey<String> DESTINATION =
      AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
  static final String CIRCUIT_EVENT = "polybus.circuit_breaker";
  static final AttributeKey<String> CIRCUIT_FROM = AttributeKey.stringKey("polybus.circuit.from");
  static final AttributeKey<String> CIRCUIT_TO = AttributeKey.stringKey("polybus.circuit.to");
  static final AttributeKey<String> CIRCUIT_WHY = AttributeKey.stringKey("polybus.circuit.reason");
  static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  static final AttributeKey<String> PARTITION =
      AttributeKey.stringKey("messaging.destination.partition.id");
  static final AttributeKey<Long> BATCH_COUNT =
      AttributeKey.longKey("messaging.batch.message_count");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> SOURCE_TOPIC = AttributeKey.stringKey("polybus.source.topic");
  static final AttributeKey<String> DEAD_LETTER_TOPIC =
      AttributeKey.stringKey("polybus.dead_letter.topic");

  private static final TextMapSetter<Map<String, String>> SETTER =
      (carrier, key, value) -> carrier.put(key, value);

  private static final TextMapGetter<Map<String, String>> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private final Tracer tracer;
  private final TextMapPropagator propagator;
  private final Collection<String> fields;
  private final String system;

  TracingObserver(Tracer tracer, TextMapPropagator propagator, String system) {
    this.tracer = tracer;
    this.propagator = propagator;
    this.fields = List.copyOf(propagator.fields());
    this.system = system;
  }

  /**
   * {@code m} carrying {@code context}: the propagator's headers replace any it carried before, so
   * no stale {@code tracestate} or {@code baggage} of an older trace survives next to a new {@code
   * traceparent}.
   */
  private Message carrying(Message m, Context context) {
    Map<String, String> h = new HashMap<>();
    propagator.inject(context, h, SETTER);
    if (h.isEmpty()) {
      return m;
    }
    boolean stale = false;
    for (String f : fields) {
      if (!h.containsKey(f) && m.headers().containsKey(f)) {
        stale = true;
        break;
      }
    }
    Message base = stale ? Messages.withoutHeaders(m, fields) : m;
    return Messages.withHeaders(base, h);
  }

  private Context extract(Message m) {
    return propagator.extract(Context.root(), m.headers(), GETTER);
  }

  /**
   * A span event {@code polybus.circuit_breaker} on the span current where the transition happened
   * (the process span, when the handler's own retry opened the breaker), otherwise on a short span
   * {@code circuit_breaker <topic>} of its own, so a transition is always in a trace.
   */
  @Override
  public void circuitChanged(
      Subscription subscription, CircuitBreaker.State from, CircuitBreaker.State to, String why) {
    io.opentelemetry.api.common.Attributes event =
        io.opentelemetry.api.common.Attributes.of(
            CIRCUIT_FROM,
            from.name().toLowerCase(Locale.ROOT),
            CIRCUIT_TO,
            to.name().toLowerCase(Locale.ROOT),
            CIRCUIT_WHY,
            why);
    Span current = Span.current();
    if (current.isRecording()) {
      current.addEvent(CIRCUIT_EVENT, event);
      return;
    }
    Span own =
        span("circuit_breaker", subscription.topic(), SpanKind.INTERNAL, Context.root())
            .setAttribute(GROUP, subscription.group())
            .startSpan();
    own.addEvent(CIRCUIT_EVENT, event);
    own.end();
  }

  private SpanBuilder span(String operation, String destination, SpanKind kind, Context parent) {
    return tracer
        .spanBuilder(operation + " " + destination)
        .setSpanKind(kind)
        .setParent(parent)
        .setAttribute(SYSTEM, system)
        .setAttribute(OPERATION_NAME, operation)
        .setAttribute(DESTINATION, destination);
  }

  private static void failed(Span span, Throwable failure) {
    span.recordException(failure);
    span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
    span.setAttribute(ERROR_TYPE, failure.getClass().getName());
  }

  /** The partition of a receipt's position {@code "<partition>@<offset>"}, or null. */
  static String partitionOf(PublishReceipt r) {
    String p = r.position();
    int at = p == null ? -1 : p.indexOf('@');
    return at > 0 ? p.substring(0, at) : null;
  }

  /**
   * The parent of {@code m}'s send span: the caller's current context when a span is current there,
   * otherwise the context {@code m} already carries, if any. A relay (the outbox's, a spool's
   * forwarder, a bridge) sends on a thread where no trace is current; without this, each hop would
   * start a new trace and cut the writer's trace at the relay.
   */
  private Context sendParent(Context current, boolean traced, Message m) {
    if (traced || m.headers().isEmpty()) {
      return current;
    }
    Context carried = propagator.extract(current, m.headers(), GETTER);
    return Span.fromContext(carried).getSpanContext().isValid() ? carried : current;
  }

  @Override
  public Instrumentation.Sending publishing(String topic, List<Message> messages) {
    Context current = Context.current();
    boolean traced = Span.fromContext(current).getSpanContext().isValid();
    int n = messages.size();
    Span[] spans = new Span[n];
    List<Message> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Message m = messages.get(i);
      Context parent = sendParent(current, traced, m);
      SpanBuilder b =
          span("send", topic, SpanKind.PRODUCER, parent)
              .setAttribute(OPERATION_TYPE, "send")
              .setAttribute(MESSAGE_ID, m.id());
      if (n > 1) {
        b.setAttribute(BATCH_COUNT, (long) n);
      }
      spans[i] = b.startSpan();
      out.add(carrying(m, parent.with(spans[i])));
    }
    return new Sends(spans, out);
  }

  @Override
  public Instrumentation.Attempt attempting(Delivery delivery, String partition) {
    Message m = delivery.message();
    Context parent = extract(m);
    SpanBuilder b =
        span("process", delivery.topic(), SpanKind.CONSUMER, parent)
            .setAttribute(OPERATION_TYPE, "process")
            .setAttribute(GROUP, delivery.group())
            .setAttribute(MESSAGE_ID, m.id())
            .setAttribute(PolybusTracing.ATTEMPT, (long) delivery.attempt());
    if (partition != null) {
      b.setAttribute(PARTITION, partition);
    }
    Span span = b.startSpan();
    return new Process(span, parent.with(span));
  }

  @Override
  public Instrumentation.Sending deadLettering(
      Instrumentation.Attempt last, Delivery delivery, String deadLetterTopic, Message deadLetter) {
    Context parent = last instanceof Process p ? p.context : extract(delivery.message());
    SpanBuilder b =
        span("dead_letter", deadLetterTopic, SpanKind.PRODUCER, parent)
            .setAttribute(OPERATION_TYPE, "send")
            .setAttribute(GROUP, delivery.group())
            .setAttribute(MESSAGE_ID, deadLetter.id())
            .setAttribute(SOURCE_TOPIC, delivery.topic());
    String reason = deadLetter.header(DeadLetterHeaders.REASON);
    if (reason != null) {
      b.setAttribute(PolybusTracing.DEAD_LETTER_REASON, reason);
    }
    Span span = b.startSpan();
    return new Sends(new Span[] {span}, List.of(carrying(deadLetter, parent.with(span))));
  }

  @Override
  public Instrumentation.Sending redriving(
      String deadLetterTopic, Message record, String sourceTopic, Message republished) {
    Context parent = extract(record);
    Span span =
        span("redrive", sourceTopic, SpanKind.PRODUCER, parent)
            .setAttribute(OPERATION_TYPE, "send")
            .setAttribute(MESSAGE_ID, republished.id())
            .setAttribute(DEAD_LETTER_TOPIC, deadLetterTopic)
            .startSpan();
    return new Sends(new Span[] {span}, List.of(carrying(republished, parent.with(span))));
  }

  /** The spans of one publish, one per message, ended together. */
  private static final class Sends implements Instrumentation.Sending {
    private final Span[] spans;
    private final List<Message> messages;

    Sends(Span[] spans, List<Message> messages) {
      this.spans = spans;
      this.messages = messages;
    }

    @Override
    public List<Message> messages() {
      return messages;
    }

    @Override
    public void completed(List<PublishReceipt> receipts, Throwable failure) {
      for (int i = 0; i < spans.length; i++) {
        Span s = spans[i];
        if (failure != null) {
          failed(s, failure);
        } else if (receipts != null && i < receipts.size()) {
          String p = partitionOf(receipts.get(i));
          if (p != null) {
            s.setAttribute(PARTITION, p);
          }
        }
        s.end();
      }
    }
  }

  /** The process span of one attempt. */
  private static final class Process implements Instrumentation.Attempt {
    final Span span;
    final Context context;

    Process(Span span, Context context) {
      this.span = span;
      this.context = context;
    }

    @Override
    public Instrumentation.Scope enter() {
      io.opentelemetry.context.Scope s = context.makeCurrent();
      return s::close;
    }

    @Override
    public void settled(Instrumentation.Outcome outcome, Throwable failure) {
      span.setAttribute(PolybusTracing.OUTCOME, outcome.name().toLowerCase(Locale.ROOT));
      if (failure != null) {
        failed(span, failure);
      }
      span.end();
    }
  }
}
