package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusTimeoutException;
import io.polybus.RemoteFailureException;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves request-reply ({@link Polybus#request}, {@link io.polybus.Subscriber#respond}): a round
 * trip carries the reply's payload and headers; many requests in flight from several threads each
 * get their own reply; a request without a reply in time fails with {@link PolybusTimeoutException}
 * and its late reply is dropped and reported, while the next request works; a responder that fails
 * for good gives the requester {@link RemoteFailureException} naming the remote exception, at once,
 * not a timeout.
 */
public interface RequestReplyTck extends TckContext {

  private SubscribeOptions responderOptions() {
    return SubscribeOptions.builder().ordering(Ordering.NONE).retryPolicy(fastRetries(2)).build();
  }

  @Test
  @Timeout(120)
  default void shouldReturnTheRespondersReplyToTheRequester() throws Exception {
    try (Polybus requester = connect();
        Polybus responder = connect()) {
      String topic = uniqueName("rr-trip");
      responder.respond(
          topic,
          uniqueName("g"),
          d ->
              Message.builder()
                  .payload("re: " + d.message().payloadAsString())
                  .header("answered-by", "tck")
                  .build(),
          responderOptions());
      Message reply =
          requester
              .request(topic, Message.of("ping"), timeouts().await())
              .get(timeouts().await().toMillis() * 2, TimeUnit.MILLISECONDS);
      assertThat(reply.payloadAsString()).as("reply payload").isEqualTo("re: ping");
      assertThat(reply.header("answered-by")).as("reply header").isEqualTo("tck");
    }
  }

  @Test
  @Timeout(120)
  default void shouldGiveEachOfManyConcurrentRequestsItsOwnReply() throws Exception {
    try (Polybus requester = connect();
        Polybus responder = connect()) {
      String topic = uniqueName("rr-many");
      String group = uniqueName("g");
      SubscribeOptions options = responderOptions().newBuilder().concurrency(4).build();
      responder.respond(
          topic, group, d -> Message.of("re:" + d.message().payloadAsString()), options);
      responder.respond(
          topic, group, d -> Message.of("re:" + d.message().payloadAsString()), options);
      int threads = 4;
      int perThread = 10;
      AtomicReferenceArray<CompletableFuture<Message>> replies =
          new AtomicReferenceArray<>(threads * perThread);
      List<String> asked = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < perThread; i++) {
          asked.add(t + "-" + i);
        }
      }
      CountDownLatch go = new CountDownLatch(1);
      List<Thread> senders = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t * perThread;
        Thread s =
            new Thread(
                () -> {
                  try {
                    go.await();
                  } catch (InterruptedException e) {
                    return;
                  }
                  for (int i = first; i < first + perThread; i++) {
                    replies.set(
                        i, requester.request(topic, Message.of(asked.get(i)), timeouts().await()));
                  }
                });
        senders.add(s);
        s.start();
      }
      go.countDown();
      for (Thread s : senders) {
        s.join(timeouts().await().toMillis());
      }
      for (int i = 0; i < asked.size(); i++) {
        Message reply =
            replies.get(i).get(timeouts().await().toMillis() * 2, TimeUnit.MILLISECONDS);
        assertThat(reply.payloadAsString())
            .as("the reply to request %s of %d sent concurrently", asked.get(i), asked.size())
            .isEqualTo("re:" + asked.get(i));
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldTimeOutARequestWithoutAReplyInTimeAndDropItsLateReply() throws Exception {
    AtomicInteger dropped = new AtomicInteger();
    Instrumentation counting =
        bus ->
            new Instrumentation.Observer() {
              @Override
              public void replyDropped(String replyTopic, Message reply) {
                dropped.incrementAndGet();
              }
            };
    Duration timeout = Duration.ofMillis(500);
    try (Polybus requester = connect(counting);
        Polybus responder = connect()) {
      String topic = uniqueName("rr-timeout");
      CountDownLatch slowDone = new CountDownLatch(1);
      responder.respond(
          topic,
          uniqueName("g"),
          d -> {
            if (d.message().payloadAsString().equals("slow")) {
              Thread.sleep(timeout.multipliedBy(3).toMillis());
              slowDone.countDown();
            }
            return Message.of("re:" + d.message().payloadAsString());
          },
          responderOptions().newBuilder().concurrency(2).build());
      long t0 = System.nanoTime();
      CompletableFuture<Message> slow = requester.request(topic, Message.of("slow"), timeout);
      assertThatThrownBy(() -> slow.get(timeouts().await().toMillis(), TimeUnit.MILLISECONDS))
          .as("a request whose reply comes after its timeout")
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(PolybusTimeoutException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("time until the request without a reply failed (timeout %s)", timeout)
          .isGreaterThanOrEqualTo(timeout)
          .isLessThan(timeout.multipliedBy(3));
      assertThat(slowDone.await(timeouts().await().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
      Await.until(
          timeouts().await(), "the late reply dropped and reported", () -> dropped.get() == 1);
      Message next =
          requester
              .request(topic, Message.of("fast"), timeouts().await())
              .get(timeouts().await().toMillis() * 2, TimeUnit.MILLISECONDS);
      assertThat(next.payloadAsString()).as("the next request's reply").isEqualTo("re:fast");
      quietPeriod();
      if (declaredCapabilities().mayDuplicate()) {
        assertThat(dropped.get()).as("replies dropped (requests may be duplicated)").isPositive();
      } else {
        assertThat(dropped.get()).as("replies dropped").isEqualTo(1);
      }
    }
  }

  @Test
  @Timeout(120)
  default void shouldFailTheRequestWithTheRemoteErrorWhenTheResponderFailsForGood() {
    try (Polybus requester = connect();
        Polybus responder = connect()) {
      String topic = uniqueName("rr-fail");
      AtomicInteger attempts = new AtomicInteger();
      responder.respond(
          topic,
          uniqueName("g"),
          d -> {
            attempts.incrementAndGet();
            throw new IllegalArgumentException("tck: no such item");
          },
          SubscribeOptions.builder()
              .ordering(Ordering.NONE)
              .retryPolicy(
                  RetryPolicy.builder()
                      .maxAttempts(5)
                      .initialBackoff(Duration.ofMillis(10))
                      .jitter(0)
                      .nonRetryable(IllegalArgumentException.class)
                      .build())
              .build());
      Duration limit = timeouts().await();
      CompletableFuture<Message> f =
          requester.request(topic, Message.of("q"), limit.multipliedBy(4));
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> f.get(limit.toMillis() * 2, TimeUnit.MILLISECONDS))
          .as("a request whose responder throws a non-retryable exception")
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(RemoteFailureException.class)
          .satisfies(
              e -> {
                RemoteFailureException r = (RemoteFailureException) e;
                assertThat(r.remoteClass()).isEqualTo(IllegalArgumentException.class.getName());
                assertThat(r.remoteMessage()).isEqualTo("tck: no such item");
              });
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("time to the remote failure: before the request's own timeout")
          .isLessThan(limit.multipliedBy(2));
      assertThat(attempts.get()).as("attempts of a non-retryable failure").isEqualTo(1);
    }
  }
}
