package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.AckMode;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.idempotency.Idempotent;
import io.polybus.idempotency.InMemoryProcessedStore;
import io.polybus.idempotency.ProcessedStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves the idempotent consumer of {@code polybus-idempotency} on the backend: a message
 * republished with the same id is handled once per group and its copy acked; a first attempt that
 * fails leaves no mark, so the retry is handled and only a later copy is skipped (in {@link
 * AckMode#AUTO} and in {@link AckMode#MANUAL}, where the mark comes with the handler's ack); two
 * groups each handle the message once; copies delivered at the same time never run the handler side
 * by side. The dedupe happens above the backend, but it leans on what the backend must keep: the id
 * across redelivery and republish, the group on the delivery, and an ack that sticks.
 *
 * <p>Cases use {@link #tckProcessedStore()}, a fresh in-memory store by default. Nothing is
 * capability-gated: on a backend that declares {@code mayDuplicate}, extra copies are skipped like
 * the republished ones, and the counts asserted hold all the same.
 */
public interface IdempotencyTck extends TckContext {

  /**
   * The store each case dedupes with: a new {@link InMemoryProcessedStore} per call. Overridable so
   * that the TCK's self-test can prove these cases catch a store that breaks the contract.
   */
  default ProcessedStore tckProcessedStore() {
    return InMemoryProcessedStore.create();
  }

  @Test
  @Timeout(120)
  default void shouldHandleAMessageRepublishedWithTheSameIdOnceAndAckTheCopy() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("idem-republish");
      String group = uniqueName("g");
      Idempotent idempotent = Idempotent.using(tckProcessedStore());
      Inbox handled = new Inbox();
      Inbox delivered = new Inbox(idempotent.handler(handled));
      SubscribeOptions options = SubscribeOptions.builder().ordering(Ordering.NONE).build();
      Subscription first = bus.subscribe(topic, group, delivered, options);
      Message m = Message.builder().id("republished-" + topic).payload("once").build();
      bus.publishAndWait(topic, m);
      handled.awaitIds(List.of(m.id()), timeouts().await(), "the first publish");
      bus.publishAndWait(topic, m);
      delivered.awaitSize(2, timeouts().await(), "the message and its republished copy");
      quietPeriod();
      assertThat(handled.ids())
          .as(
              "handler calls for a message published twice with one id (%s deliveries)",
              delivered.size())
          .containsExactly(m.id());
      // The copy was acked, not left pending: a new member of the group gets only what comes
      // next (the marker proves it is consuming, on backends slow to hand a group to a member).
      first.close();
      Inbox later = new Inbox();
      bus.subscribe(topic, group, later, options);
      Message marker = Message.of("marker");
      bus.publishAndWait(topic, marker);
      later.awaitIds(List.of(marker.id()), timeouts().await(), "a message published afterwards");
      quietPeriod();
      assertThat(later.distinctIds())
          .as("messages delivered to a new member after the copy was skipped")
          .containsExactly(marker.id());
    }
  }

  @Test
  @Timeout(120)
  default void shouldRetryAFailedFirstAttemptAndSkipOnlyALaterCopy() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("idem-retry");
      Idempotent idempotent = Idempotent.using(tckProcessedStore());
      AtomicInteger calls = new AtomicInteger();
      Inbox succeeded = new Inbox();
      Inbox delivered =
          new Inbox(
              idempotent.handler(
                  d -> {
                    calls.incrementAndGet();
                    if (d.attempt() == 1) {
                      throw new IllegalStateException("tck: the first attempt fails");
                    }
                    succeeded.handle(d);
                  }));
      bus.subscribe(
          topic,
          uniqueName("g"),
          delivered,
          SubscribeOptions.builder().ordering(Ordering.NONE).retryPolicy(fastRetries(3)).build());
      Message m = Message.of("fails once");
      bus.publishAndWait(topic, m);
      succeeded.awaitIds(
          List.of(m.id()), timeouts().await(), "the retry of a message whose first attempt failed");
      bus.publishAndWait(topic, m);
      delivered.awaitSize(3, timeouts().await(), "attempts 1 and 2, then the republished copy");
      quietPeriod();
      assertThat(succeeded.size())
          .as(
              "successful handler calls: a failed attempt must leave no mark, so the retry runs"
                  + " the handler, and only the later copy is skipped")
          .isEqualTo(1);
      assertThat(succeeded.received().get(0).attempt()).as("attempt that succeeded").isEqualTo(2);
      if (!declaredCapabilities().mayDuplicate()) {
        assertThat(calls.get()).as("handler calls (one failure, one success)").isEqualTo(2);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldMarkAManualDeliveryOnlyWhenTheHandlerAcks() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("idem-manual");
      Idempotent idempotent =
          Idempotent.builder(tckProcessedStore()).ackMode(AckMode.MANUAL).build();
      Inbox acked = new Inbox();
      Inbox delivered =
          new Inbox(
              idempotent.handler(
                  d -> {
                    if (d.attempt() == 1) {
                      d.retry(Duration.ZERO); // settles as failed: no mark
                      return;
                    }
                    // Acks later, from another thread, after the handler returned.
                    CompletableFuture.runAsync(
                        () -> {
                          if (d.ack()) {
                            record(acked, d);
                          }
                        },
                        CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
                  }));
      bus.subscribe(
          topic,
          uniqueName("g"),
          delivered,
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .ackMode(AckMode.MANUAL)
              .retryPolicy(fastRetries(3))
              .build());
      Message m = Message.of("manual");
      bus.publishAndWait(topic, m);
      acked.awaitIds(List.of(m.id()), timeouts().await(), "the manual ack of the second attempt");
      bus.publishAndWait(topic, m);
      delivered.awaitSize(3, timeouts().await(), "attempts 1 and 2, then the republished copy");
      quietPeriod();
      assertThat(acked.received())
          .as("acks by the handler: the retried attempt left no mark, the acked one did")
          .hasSize(1)
          .allSatisfy(r -> assertThat(r.attempt()).isEqualTo(2));
    }
  }

  @Test
  @Timeout(120)
  default void shouldHandleAMessageOnceInEachGroup() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("idem-groups");
      // One store and one wrapper for both groups: the marks must be kept per group.
      Idempotent idempotent = Idempotent.using(tckProcessedStore());
      Inbox handledA = new Inbox();
      Inbox handledB = new Inbox();
      Inbox delivered = new Inbox();
      SubscribeOptions options = SubscribeOptions.builder().ordering(Ordering.NONE).build();
      bus.subscribe(topic, uniqueName("a"), new Inbox(idempotent.handler(handledA)), options);
      bus.subscribe(
          topic,
          uniqueName("b"),
          d -> {
            delivered.handle(d);
            idempotent.handler(handledB).handle(d);
          },
          options);
      Message m = Message.of("every group");
      bus.publishAndWait(topic, m);
      bus.publishAndWait(topic, m);
      delivered.awaitSize(2, timeouts().await(), "both copies in group b");
      handledA.awaitIds(List.of(m.id()), timeouts().await(), "group a");
      quietPeriod();
      assertThat(handledA.ids()).as("handler calls in group a").containsExactly(m.id());
      assertThat(handledB.ids()).as("handler calls in group b").containsExactly(m.id());
    }
  }

  @Test
  @Timeout(120)
  default void shouldNeverRunTheHandlerForTwoCopiesAtOnce() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("idem-concurrent");
      Idempotent idempotent = Idempotent.using(tckProcessedStore());
      AtomicInteger running = new AtomicInteger();
      AtomicInteger mostAtOnce = new AtomicInteger();
      Inbox handled = new Inbox();
      Inbox delivered =
          new Inbox(
              idempotent.handler(
                  d -> {
                    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                    try {
                      Thread.sleep(300); // long enough for the other copies to arrive meanwhile
                      handled.handle(d);
                    } finally {
                      running.decrementAndGet();
                    }
                  }));
      bus.subscribe(
          topic,
          uniqueName("g"),
          delivered,
          SubscribeOptions.builder().ordering(Ordering.NONE).concurrency(4).build());
      Message m = Message.of("copies");
      // Three publish calls, not one publishAll: SQS FIFO drops repeats of an entry within one
      // call.
      CompletableFuture.allOf(bus.publish(topic, m), bus.publish(topic, m), bus.publish(topic, m))
          .join();
      delivered.awaitSize(3, timeouts().await(), "three copies of one message");
      quietPeriod();
      assertThat(mostAtOnce.get()).as("handler calls for one id running at once").isEqualTo(1);
      assertThat(handled.ids()).as("handler calls for three copies").containsExactly(m.id());
    }
  }

  private static void record(Inbox inbox, Delivery d) {
    try {
      inbox.handle(d);
    } catch (Exception e) {
      throw new IllegalStateException(e); // an Inbox without a next handler never throws
    }
  }
}
