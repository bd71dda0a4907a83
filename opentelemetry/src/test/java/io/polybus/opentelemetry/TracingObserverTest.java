package io.polybus.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.polybus.CircuitBreaker;
import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.Subscription;
import io.polybus.TraceHeaders;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the observer moves trace context in and out of headers: replacing, never adding, and never
 * leaving an older trace's state behind.
 */
class TracingObserverTest {
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final SdkTracerProvider provider =
      SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build();
  private final TracingObserver observer =
      new TracingObserver(
          provider.get("test"),
          ContextPropagators.create(
                  TextMapPropagator.composite(
                      W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance()))
              .getTextMapPropagator(),
          "polybus_mem");

  @AfterEach
  void close() {
    provider.close();
  }

  /** A delivery of {@code m}: only what the observer reads. */
  private static Delivery delivery(Message m, int attempt) {
    return new Delivery() {
      @Override
      public Message message() {
        return m;
      }

      @Override
      public String topic() {
        return "orders";
      }

      @Override
      public String group() {
        return "email";
      }

      @Override
      public int attempt() {
        return attempt;
      }

      @Override
      public boolean ack() {
        return false;
      }

      @Override
      public boolean retry(Duration delay) {
        return false;
      }

      @Override
      public boolean deadLetter(String reason) {
        return false;
      }

      @Override
      public boolean isSettled() {
        return false;
      }
    };
  }

  private Message publish(Message m) {
    Instrumentation.Sending s = observer.publishing("orders", List.of(m));
    Message out = s.messages().get(0);
    s.completed(List.of(new PublishReceipt("orders", m.id(), "2@17")), null);
    return out;
  }

  @Test
  void aCircuitTransitionIsAnEventOnTheCurrentSpanOrOnASpanOfItsOwn() {
    Subscription sub =
        (Subscription)
            java.lang.reflect.Proxy.newProxyInstance(
                Subscription.class.getClassLoader(),
                new Class<?>[] {Subscription.class},
                (p, m, args) ->
                    switch (m.getName()) {
                      case "topic" -> "orders";
                      case "group" -> "email";
                      default -> throw new UnsupportedOperationException(m.getName());
                    });
    Instrumentation.Attempt a = observer.attempting(delivery(publish(Message.of("x")), 1), null);
    try (Instrumentation.Scope ignored = a.enter()) {
      observer.circuitChanged(
          sub, CircuitBreaker.State.CLOSED, CircuitBreaker.State.OPEN, "4 of 4 failed");
    }
    a.settled(Instrumentation.Outcome.RETRY, new IllegalStateException("down"));
    observer.circuitChanged(
        sub, CircuitBreaker.State.OPEN, CircuitBreaker.State.HALF_OPEN, "open for PT1S");
    List<SpanData> done = spans.getFinishedSpanItems();
    SpanData process =
        done.stream().filter(d -> d.getName().equals("process orders")).findFirst().orElseThrow();
    assertThat(process.getEvents())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("polybus.circuit_breaker");
              assertThat(e.getAttributes().get(TracingObserver.CIRCUIT_TO)).isEqualTo("open");
              assertThat(e.getAttributes().get(TracingObserver.CIRCUIT_WHY))
                  .isEqualTo("4 of 4 failed");
            });
    SpanData own =
        done.stream()
            .filter(d -> d.getName().equals("circuit_breaker orders"))
            .findFirst()
            .orElseThrow();
    assertThat(own.getEvents().get(0).getAttributes().get(TracingObserver.CIRCUIT_TO))
        .isEqualTo("half_open");
  }

  @Test
  void republishingATracedMessageReplacesItsTraceHeadersAndDropsAStaleTracestate() {
    Message old =
        Message.builder()
            .payload("x")
            .header(
                TraceHeaders.TRACEPARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
            .header(TraceHeaders.TRACESTATE, "vendor=stale")
            .header("app", "kept")
            .build();
    Span handler = provider.get("test").spanBuilder("handler").startSpan();
    Message out;
    try (Scope ignored = handler.makeCurrent()) {
      out = publish(old);
    } finally {
      handler.end();
    }

    SpanData send = spans.getFinishedSpanItems().get(0);
    assertThat(send.getTraceId()).isEqualTo(handler.getSpanContext().getTraceId());
    assertThat(out.header(TraceHeaders.TRACEPARENT))
        .startsWith("00-" + send.getTraceId() + "-" + send.getSpanId() + "-");
    assertThat(out.headers())
        .doesNotContainKey(TraceHeaders.TRACESTATE)
        .containsEntry("app", "kept");
    assertThat(out.headers()).hasSize(2);
    assertThat(send.getAttributes().get(TracingObserver.PARTITION)).isEqualTo("2");
  }

  @Test
  void aMessageSentWhereNoSpanIsCurrentContinuesTheTraceItCarries() {
    Message stored = publish(Message.of("relayed"));
    SpanData writer = spans.getFinishedSpanItems().get(0);

    Message forwarded = publish(stored);

    SpanData relay = spans.getFinishedSpanItems().get(1);
    assertThat(relay.getTraceId()).isEqualTo(writer.getTraceId());
    assertThat(relay.getParentSpanId()).isEqualTo(writer.getSpanId());
    assertThat(forwarded.header(TraceHeaders.TRACEPARENT))
        .startsWith("00-" + writer.getTraceId() + "-" + relay.getSpanId() + "-");
  }

  @Test
  void aMessageWithoutTraceHeadersSentWhereNoSpanIsCurrentStartsATrace() {
    publish(Message.of("plain"));
    assertThat(spans.getFinishedSpanItems().get(0).getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void eachAttemptIsAChildOfTheCreationContextAndCarriesTheBaggage() {
    Message published;
    try (Scope ignored =
        Baggage.builder()
            .put("tenant", "acme")
            .build()
            .storeInContext(Context.current())
            .makeCurrent()) {
      published = publish(Message.of("k", "hello"));
    }
    assertThat(published.header(TraceHeaders.BAGGAGE)).isEqualTo("tenant=acme");
    SpanData send = spans.getFinishedSpanItems().get(0);

    for (int attempt = 1; attempt <= 2; attempt++) {
      Instrumentation.Attempt a = observer.attempting(delivery(published, attempt), null);
      String current;
      String tenant;
      try (Instrumentation.Scope scope = a.enter()) {
        current = Span.current().getSpanContext().getSpanId();
        tenant = Baggage.current().getEntryValue("tenant");
      }
      a.settled(
          attempt == 1 ? Instrumentation.Outcome.RETRY : Instrumentation.Outcome.ACK,
          attempt == 1 ? new IllegalStateException("first try fails") : null);
      SpanData process = spans.getFinishedSpanItems().get(attempt);
      assertThat(process.getParentSpanId()).isEqualTo(send.getSpanId());
      assertThat(process.getTraceId()).isEqualTo(send.getTraceId());
      assertThat(current).as("the span current in the handler").isEqualTo(process.getSpanId());
      assertThat(tenant).as("baggage in the handler").isEqualTo("acme");
      assertThat(process.getStatus().getStatusCode())
          .isEqualTo(attempt == 1 ? StatusCode.ERROR : StatusCode.UNSET);
    }
  }

  @Test
  void aDeadLetterWithoutAnAttemptIsAChildOfTheMessagesContextAndCarriesItsOwn() {
    Message published = publish(Message.of("poison"));
    SpanData send = spans.getFinishedSpanItems().get(0);
    Instrumentation.Sending s =
        observer.deadLettering(null, delivery(published, 4), "orders.email.dlq", published);
    Message dead = s.messages().get(0);
    s.completed(List.of(), null);
    SpanData dl = spans.getFinishedSpanItems().get(1);
    assertThat(dl.getName()).isEqualTo("dead_letter orders.email.dlq");
    assertThat(dl.getParentSpanId()).isEqualTo(send.getSpanId());
    assertThat(dead.header(TraceHeaders.TRACEPARENT)).contains(dl.getSpanId());
  }
}
