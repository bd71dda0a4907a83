package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves delayed delivery ({@link Message.Builder#deliverAt}): where the backend declares a {@link
 * io.polybus.Capabilities#maxDeliveryDelay()} (skipped, by name, otherwise), no group receives a
 * delayed message before its time, every group receives it then (within {@link
 * TckTimeouts#retrySlack()} after), as a first attempt that retries like any other, and it holds
 * back no later message of its key. On every backend, a delay beyond the declared maximum is
 * refused before anything of its batch is sent, and a deliver-at time already past means at once.
 */
public interface DelayTck extends TckContext {

  /** Long enough to tell "held" from "at once" on a networked broker, short enough to be cheap. */
  Duration DELAY = Duration.ofMillis(1500);

  @Test
  @Timeout(120)
  default void shouldDeliverADelayedMessageToEveryGroupAtItsTimeWithoutHoldingBackItsKey() {
    assumeCapability(!declaredCapabilities().maxDeliveryDelay().isZero(), "maxDeliveryDelay");
    try (Polybus bus = connect()) {
      String topic = uniqueName("delay");
      String key = uniqueName("key");
      // Under KEY ordering where the backend has it: the delayed message must not hold its key.
      SubscribeOptions keyed =
          SubscribeOptions.builder()
              .ordering(declaredCapabilities().orderedByKey() ? Ordering.KEY : Ordering.NONE)
              .build();
      Inbox plain = new Inbox();
      bus.subscribe(topic, uniqueName("g"), plain, keyed);
      // The second group fails the delayed message's first attempt: its retry is an ordinary one.
      Inbox failing =
          new Inbox(
              d -> {
                if (d.message().deliverAt() != null && d.attempt() == 1) {
                  throw new IllegalStateException("first attempt of the delayed message fails");
                }
              });
      bus.subscribe(
          topic, uniqueName("g"), failing, keyed.newBuilder().retryPolicy(fastRetries(3)).build());

      long published = System.nanoTime();
      Message delayed = Message.builder().key(key).payload("delayed").deliverAfter(DELAY).build();
      Message later = Message.of(key, "published after the delayed one");
      bus.publishAllAndWait(topic, List.of(delayed, later));

      List<String> both = List.of(delayed.id(), later.id());
      plain.awaitIds(both, timeouts().await(), "the delayed and the later message, first group");
      failing.awaitSize(3, timeouts().await(), "later, and two attempts of the delayed message");

      long earliest = published + TimeUnit.MILLISECONDS.toNanos(DELAY.toMillis() - 2);
      for (Inbox inbox : List.of(plain, failing)) {
        Inbox.Received first = inbox.of(delayed.id()).get(0);
        Inbox.Received other = inbox.of(later.id()).get(0);
        assertThat(first.nanoTime() - earliest)
            .as(
                "the delayed message arrived %d ms after it was published, asked to wait %d ms",
                TimeUnit.NANOSECONDS.toMillis(first.nanoTime() - published), DELAY.toMillis())
            .isGreaterThanOrEqualTo(0);
        assertThat(Duration.ofNanos(first.nanoTime() - published))
            .as("how long the delayed message took, asked to wait %s (slack: retrySlack)", DELAY)
            .isLessThanOrEqualTo(DELAY.plus(timeouts().retrySlack()));
        assertThat(other.nanoTime())
            .as("the later message of its key waited for the delayed one")
            .isLessThan(first.nanoTime());
        assertThat(first.attempt()).as("the delayed message's first delivery").isEqualTo(1);
        assertThat(first.message().payloadAsString()).isEqualTo("delayed");
        assertThat(first.message().key()).isEqualTo(key);
        assertThat(first.message().deliverAt()).isEqualTo(delayed.deliverAt());
      }
      assertThat(failing.of(delayed.id()))
          .extracting(Inbox.Received::attempt)
          .as("attempts of the delayed message at the group that failed its first")
          .containsExactly(1, 2);
      quietPeriod();
      assertOnlyAndOnce(plain.ids(), both, "the first group");
    }
  }

  @Test
  @Timeout(120)
  default void shouldRefuseADelayBeyondTheBackendsMaximumBeforeSendingAnything() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("delay-max");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, uniqueName("g"), inbox);
      Duration max = declaredCapabilities().maxDeliveryDelay();
      Message first = Message.of("sent with a message it may not send");
      Message tooLate =
          Message.builder()
              .payload("too late")
              .deliverAt(Instant.now().plus(max).plus(Duration.ofDays(1)))
              .build();
      assertThatThrownBy(() -> bus.publishAll(topic, List.of(first, tooLate)))
          .as("a delay a day beyond maxDeliveryDelay (%s)", max)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining(tooLate.id())
          .hasMessageContaining("maxDeliveryDelay");

      // A time already past is no delay: every backend takes it and delivers it at once.
      Message past =
          Message.builder()
              .payload("due a minute ago")
              .deliverAt(Instant.now().minus(Duration.ofMinutes(1)))
              .build();
      bus.publishAndWait(topic, past);
      assertDeliveredExactlyOnce(
          inbox, List.of(past.id()), "only the message due a minute ago, not the refused batch");
    }
  }
}
