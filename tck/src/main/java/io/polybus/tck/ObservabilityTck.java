package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.polybus.ConsumerLag;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.RedriveResult;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.TraceHeaders;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.opentelemetry.PolybusTracing;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves what {@link Instrumentation} sees on this backend, with {@code polybus-opentelemetry} and
 * {@code polybus-micrometer} installed: the trace context travels in the message headers from the
 * publish to every delivery attempt, into the dead-letter record and through a redrive, so one
 * trace holds the send, one process span per attempt (numbered, with its outcome), the dead letter
 * and the redrive; the handler runs inside its process span; the counters are exact; and {@link
 * Polybus#lag} counts what a group has not settled.
 */
public interface ObservabilityTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldTraceEveryAttemptAsAChildOfThePublishAndCountIt() {
    try (TckTelemetry t = new TckTelemetry();
        Polybus bus = connect(t.instrumentation)) {
      String topic = uniqueName("obs-attempts");
      String group = uniqueName("g");
      ConcurrentLinkedQueue<String> handlerSpans = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<String> traceparents = new ConcurrentLinkedQueue<>();
      Inbox inbox =
          new Inbox(
              d -> {
                handlerSpans.add(Span.current().getSpanContext().getSpanId());
                traceparents.add(String.valueOf(d.message().header(TraceHeaders.TRACEPARENT)));
                if (d.attempt() < 3) {
                  throw new IllegalStateException("tck: failing attempt " + d.attempt());
                }
              });
      Subscription s =
          bus.subscribe(
              topic, group, inbox, SubscribeOptions.builder().retryPolicy(fastRetries(3)).build());
      Message m = Message.of("k", "traced");
      Span parent = t.otel.getTracer("tck").spanBuilder("tck-parent").startSpan();
      try (Scope ignored = parent.makeCurrent()) {
        bus.publishAndWait(topic, m);
      } finally {
        parent.end();
      }
      String process = "process " + topic;
      Await.until(
          timeouts().await(),
          () -> "three ended process spans of " + m.id() + ", got " + t.named(process),
          () -> t.named(process).size() >= 3);
      quietPeriod();

      List<SpanData> sends = t.named("send " + topic);
      assertThat(sends).as("send spans of one publish").hasSize(1);
      SpanData send = sends.get(0);
      assertThat(send.getKind()).as("send span kind").isEqualTo(SpanKind.PRODUCER);
      assertThat(send.getParentSpanId()).as("send span's parent").isEqualTo(parentId(parent));
      assertThat(TckTelemetry.attr(send, "messaging.message.id")).isEqualTo(m.id());
      assertThat(TckTelemetry.attr(send, "messaging.system"))
          .as("messaging.system")
          .isEqualTo(Instrumentation.messagingSystem(bus.options().scheme()));

      List<SpanData> attempts = t.named(process);
      assertThat(attempts)
          .extracting(a -> TckTelemetry.longAttr(a, PolybusTracing.ATTEMPT.getKey()))
          .as("attempt numbers of the process spans")
          .containsExactly(1L, 2L, 3L);
      assertThat(attempts)
          .extracting(a -> TckTelemetry.attr(a, PolybusTracing.OUTCOME.getKey()))
          .as("outcomes of the process spans")
          .containsExactly("retry", "retry", "ack");
      for (SpanData a : attempts) {
        assertThat(a.getKind()).as("process span kind").isEqualTo(SpanKind.CONSUMER);
        assertThat(a.getTraceId())
            .as(
                "trace of attempt %s: the publisher's (are the trace headers carried?)",
                TckTelemetry.longAttr(a, PolybusTracing.ATTEMPT.getKey()))
            .isEqualTo(send.getTraceId());
        assertThat(a.getParentSpanId())
            .as("parent of a process span: the send span")
            .isEqualTo(send.getSpanId());
        assertThat(TckTelemetry.attr(a, "messaging.consumer.group.name")).isEqualTo(group);
      }
      assertThat(handlerSpans)
          .as("the current span inside the handler, per attempt")
          .containsExactlyElementsOf(attempts.stream().map(SpanData::getSpanId).toList());
      assertThat(traceparents)
          .as("the traceparent header each attempt saw: the send span's, never replaced or added")
          .hasSize(3)
          .allMatch(h -> h.contains(send.getSpanId()) && h.contains(send.getTraceId()));

      assertThat(t.count(PolybusMetrics.SENT, "messaging.destination.name", topic))
          .as("messages sent")
          .isEqualTo(1);
      assertThat(t.count(PolybusMetrics.CONSUMED, "messaging.destination.name", topic))
          .as("messages consumed: one per attempt")
          .isEqualTo(3);
      assertThat(t.count(PolybusMetrics.RETRIES, "messaging.destination.name", topic))
          .as("retries")
          .isEqualTo(2);
      assertThat(t.timed(PolybusMetrics.PROCESS_DURATION, topic, "ack"))
          .as("acked attempts timed")
          .isEqualTo(1);
      Await.until(
          timeouts().await(),
          () -> "in-flight back to 0, is " + s.inFlight(),
          () -> s.inFlight() == 0 && t.gauge(PolybusMetrics.IN_FLIGHT, topic) == 0);
    }
  }

  @Test
  @Timeout(180)
  default void shouldCarryTheTraceIntoTheDeadLetterAndThroughARedrive() {
    try (TckTelemetry t = new TckTelemetry();
        Polybus bus = connect(t.instrumentation)) {
      String topic = uniqueName("obs-dlq");
      String group = uniqueName("g");
      String dlqTopic = defaultDeadLetterTopic(topic, group);
      AtomicBoolean failing = new AtomicBoolean(true);
      Inbox inbox =
          new Inbox(
              d -> {
                if (failing.get()) {
                  throw new IllegalStateException("tck: poison");
                }
              });
      bus.subscribe(
          topic, group, inbox, SubscribeOptions.builder().retryPolicy(fastRetries(2)).build());
      Message m = Message.of("k", "poison");
      bus.publishAndWait(topic, m);
      String deadLetter = "dead_letter " + dlqTopic;
      Await.until(
          timeouts().await(),
          () -> "the dead letter of " + m.id() + " confirmed",
          () ->
              t.named(deadLetter).size() == 1
                  && t.count(PolybusMetrics.DEAD_LETTERS, "messaging.destination.name", topic)
                      == 1);
      failing.set(false);

      SpanData send = t.named("send " + topic).get(0);
      List<SpanData> attempts = t.named("process " + topic);
      assertThat(attempts)
          .extracting(a -> TckTelemetry.attr(a, PolybusTracing.OUTCOME.getKey()))
          .as("outcomes of a message failing both of its two attempts")
          .containsExactly("retry", "dead_letter");
      SpanData dl = t.named(deadLetter).get(0);
      assertThat(dl.getTraceId()).as("trace of the dead-letter span").isEqualTo(send.getTraceId());
      assertThat(dl.getParentSpanId())
          .as("parent of the dead-letter span: the last attempt")
          .isEqualTo(attempts.get(1).getSpanId());

      RedriveResult r = redrive(bus, dlqTopic);
      assertThat(r.republished()).as("records redriven").isEqualTo(1);
      inbox.awaitSize(3, timeouts().await(), "the redriven message handled");
      quietPeriod();
      assertThat(t.named(deadLetter)).as("dead-letter spans of one poison message").hasSize(1);
      List<SpanData> redrives = t.named("redrive " + topic);
      assertThat(redrives).as("redrive spans").hasSize(1);
      SpanData rd = redrives.get(0);
      assertThat(rd.getTraceId())
          .as("trace of the redrive: the publisher's (did the dead letter carry the context?)")
          .isEqualTo(send.getTraceId());
      assertThat(rd.getParentSpanId())
          .as("parent of the redrive span: the dead-letter span, from the record's headers")
          .isEqualTo(dl.getSpanId());
      List<SpanData> after = t.named("process " + topic);
      assertThat(after).as("process spans after the redrive").hasSize(3);
      SpanData again = after.get(2);
      assertThat(again.getTraceId())
          .as("trace of the redriven attempt")
          .isEqualTo(send.getTraceId());
      assertThat(again.getParentSpanId())
          .as("parent of the redriven attempt: the redrive span")
          .isEqualTo(rd.getSpanId());
      assertThat(TckTelemetry.attr(again, PolybusTracing.OUTCOME.getKey())).isEqualTo("ack");
      Message redriven = inbox.messages().get(2);
      assertThat(redriven.header(TraceHeaders.TRACEPARENT))
          .as("the redriven message's traceparent: the redrive span's")
          .contains(rd.getSpanId());
      assertThat(t.count(PolybusMetrics.SENT, "messaging.destination.name", topic))
          .as("messages sent by the application")
          .isEqualTo(1);
      assertThat(t.count(PolybusMetrics.REDRIVEN, "messaging.destination.name", topic))
          .as("messages redriven")
          .isEqualTo(1);
      assertThat(t.count(PolybusMetrics.DEAD_LETTERS, "messaging.destination.name", topic))
          .as("dead letters")
          .isEqualTo(1);
    }
  }

  @Test
  @Timeout(240)
  default void shouldReportTheLagOfAGroupWithoutARunningMemberAndZeroOnceConsumed() {
    ConsumerLag.Accuracy accuracy = declaredCapabilities().lagAccuracy();
    try (Polybus bus = connect()) {
      String topic = uniqueName("obs-lag");
      String group = uniqueName("g");
      if (accuracy == ConsumerLag.Accuracy.NONE) {
        assertThatThrownBy(() -> bus.lag(topic, group))
            .as("lag on a backend that declares lagAccuracy NONE")
            .isInstanceOf(UnsupportedOperationException.class);
        return;
      }
      bus.subscribe(topic, group, d -> {}).close();
      int n = 1000;
      List<Message> all = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        all.add(Message.of("k" + (i % 16), "lag-" + i));
      }
      for (int i = 0; i < n; i += 100) {
        bus.publishAllAndWait(topic, all.subList(i, i + 100));
      }
      Duration settle =
          accuracy == ConsumerLag.Accuracy.EXACT
              ? timeouts().await()
              : timeouts().await().plus(Duration.ofSeconds(60));
      awaitLag(bus, topic, group, n, settle, "1000 published while the group has no member");
      ConsumerLag lag = bus.lag(topic, group);
      assertThat(lag.accuracy()).as("accuracy of the figure").isEqualTo(accuracy);
      if (!lag.partitions().isEmpty()) {
        assertThat(lag.partitions().values().stream().mapToLong(Long::longValue).sum())
            .as("the partitions' shares add up to the total")
            .isEqualTo(lag.total());
      }
      Inbox inbox = new Inbox();
      bus.subscribe(topic, group, inbox);
      inbox.awaitIds(idsOf(all), timeouts().await(), "the lagging messages consumed");
      awaitLag(bus, topic, group, 0, settle, "every message consumed and acked");
    }
  }

  private void awaitLag(
      Polybus bus, String topic, String group, long expected, Duration within, String what) {
    long[] last = {-1};
    Await.until(
        within,
        () ->
            "lag of " + group + " on " + topic + " to be " + expected + " (" + what + "), was "
                + last[0],
        () -> {
          last[0] = bus.lag(topic, group).total();
          if (last[0] == expected) {
            return true;
          }
          Await.quietFor(Duration.ofMillis(100)); // one broker round trip per look, not a storm
          return false;
        });
  }

  /**
   * Redrives within the await timeout plus its idle period, failing (and interrupting it) after
   * that: a backend whose acks do not stick would otherwise redrive the same record forever.
   */
  private RedriveResult redrive(Polybus bus, String dlqTopic) {
    Duration idle = timeouts().quiet().plus(Duration.ofSeconds(1));
    Duration bound = timeouts().await().plus(idle);
    return assertTimeoutPreemptively(
        bound,
        () -> bus.redrive(dlqTopic, idle),
        () -> "redrive of " + dlqTopic + " did not finish within " + bound);
  }

  private static String parentId(Span parent) {
    return parent.getSpanContext().getSpanId();
  }
}
