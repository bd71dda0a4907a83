package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.BackPressureException;
import io.polybus.BrokerUnavailableException;
import io.polybus.Message;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.TransientPolybusException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The outbox without SQS: a manual executor runs the batches when the test says so, and a scripted
 * sender records what each call carried, so bound, coalescing, parallelism and FIFO order are
 * checked exactly, without sleeps or timing.
 */
class OutboxTest {
  /** Runs nothing until told. */
  private static final class ManualExecutor implements java.util.concurrent.Executor {
    final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable r) {
      tasks.add(r);
    }

    void runNext() {
      tasks.poll().run();
    }

    void runAll() {
      while (!tasks.isEmpty()) {
        runNext();
      }
    }
  }

  /** Records each call's entries (as "key:n" of their messages); a script can make calls fail. */
  private static final class Recorder implements Outbox.BatchSender {
    final List<List<String>> calls = new ArrayList<>();
    Consumer<List<Outbox.Entry>> script = b -> {};

    @Override
    public void send(String topic, List<Outbox.Entry> batch) {
      List<String> c = new ArrayList<>();
      for (Outbox.Entry e : batch) {
        c.add(e.message().payloadAsString());
      }
      calls.add(c);
      script.accept(batch);
      for (Outbox.Entry e : batch) {
        e.position = "pos-" + e.message().payloadAsString();
      }
    }
  }

  private final ManualExecutor executor = new ManualExecutor();
  private final Recorder sender = new Recorder();

  private Outbox outbox(boolean fifo, int parallelism, int maxWaiting) {
    return new Outbox(
        fifo, parallelism, 256 * 1024, maxWaiting, 1L << 30, executor, sender, "test endpoint");
  }

  /** One single-message publish of key {@code key} whose payload names it. */
  private static CompletableFuture<List<PublishReceipt>> publish(
      Outbox outbox, String key, String payload) {
    return publish(outbox, "t", key, payload);
  }

  private static CompletableFuture<List<PublishReceipt>> publish(
      Outbox outbox, String topic, String key, String payload) {
    Message m = Message.builder().key(key).payload(payload).build();
    Outbox.Publish p = new Outbox.Publish(topic, List.of(m));
    return outbox.offer(
        p, List.of(new Outbox.Entry(p, 0, key, "dedup-" + payload, SqsLayout.encode(m))));
  }

  private static Throwable failure(CompletableFuture<?> f) {
    assertThat(f).isCompletedExceptionally();
    try {
      f.get();
      throw new AssertionError("not failed");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void shouldCoalesceSinglePublishesMadeWhileASenderIsBusyIntoBatchesOfTen() throws Exception {
    Outbox outbox = outbox(false, 1, 10_000);
    List<CompletableFuture<List<PublishReceipt>>> futures = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      futures.add(publish(outbox, null, "m" + i));
    }
    // The first publish found the sender free and left alone; the other 24 waited for it.
    executor.runAll();
    assertThat(sender.calls).extracting(List::size).containsExactly(1, 10, 10, 4);
    assertThat(sender.calls.get(1)).startsWith("m1", "m2").endsWith("m10");
    for (int i = 0; i < 25; i++) {
      assertThat(futures.get(i).get().get(0).position()).isEqualTo("pos-m" + i);
    }
    assertThat(outbox.waiting()).isZero();
  }

  @Test
  void shouldKeepAtMostParallelismBatchesInFlight() {
    Outbox outbox = outbox(false, 3, 10_000);
    for (int i = 0; i < 100; i++) {
      publish(outbox, null, "m" + i);
    }
    // Three batches were handed to the executor at once (one message each: each found a sender
    // free), the rest waits for one of them to finish.
    assertThat(executor.tasks).hasSize(3);
    assertThat(outbox.waiting()).isEqualTo(97);
    executor.runNext();
    assertThat(executor.tasks).as("the finished batch handed its sender the next").hasSize(3);
    assertThat(outbox.waiting()).isEqualTo(87);
    executor.runAll();
    assertThat(sender.calls.stream().mapToInt(List::size).sum()).isEqualTo(100);
  }

  @Test
  void shouldRefuseAPublishAtOnceWithBackPressureWhenTheQueueIsFullAndSendEveryAcceptedOne()
      throws Exception {
    Outbox outbox = outbox(false, 1, 20);
    List<CompletableFuture<List<PublishReceipt>>> futures = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      futures.add(publish(outbox, null, "m" + i));
    }
    // m0 is in flight (not waiting), m1..m20 wait: the bound; m21..m29 are refused before
    // anything runs.
    for (int i = 21; i < 30; i++) {
      assertThat(failure(futures.get(i)))
          .isInstanceOf(BackPressureException.class)
          .hasMessageContaining("nothing of it sent");
    }
    executor.runAll();
    for (int i = 0; i <= 20; i++) {
      assertThat(futures.get(i).get()).hasSize(1);
    }
    assertThat(sender.calls.stream().flatMap(List::stream))
        .containsExactlyElementsOf(
            java.util.stream.IntStream.rangeClosed(0, 20).mapToObj(i -> "m" + i).toList());
    // Room again: the next publish is accepted.
    CompletableFuture<List<PublishReceipt>> later = publish(outbox, null, "later");
    executor.runAll();
    assertThat(later.get()).hasSize(1);
  }

  @Test
  void shouldAcceptAPublishLargerThanTheBoundWhenNothingWaits() throws Exception {
    Outbox outbox = outbox(false, 1, 5);
    List<Message> messages = new ArrayList<>();
    List<Outbox.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      messages.add(Message.of("m" + i));
    }
    Outbox.Publish p = new Outbox.Publish("t", messages);
    for (int i = 0; i < 12; i++) {
      entries.add(new Outbox.Entry(p, i, null, null, SqsLayout.encode(messages.get(i))));
    }
    CompletableFuture<List<PublishReceipt>> f = outbox.offer(p, entries);
    executor.runAll();
    assertThat(f.get()).extracting(PublishReceipt::position).startsWith("pos-m0").hasSize(12);
    assertThat(sender.calls).extracting(List::size).containsExactly(10, 2);
  }

  @Test
  void shouldKeepOneBatchPerMessageGroupInFlightAndSendEachKeyInPublishOrder() throws Exception {
    Outbox outbox = outbox(true, 4, 10_000);
    List<CompletableFuture<List<PublishReceipt>>> futures = new ArrayList<>();
    futures.add(publish(outbox, "A", "A1"));
    futures.add(publish(outbox, "A", "A2"));
    futures.add(publish(outbox, "B", "B1"));
    futures.add(publish(outbox, "A", "A3"));
    futures.add(publish(outbox, "B", "B2"));
    // A1 and B1 each left at once, on two of the four senders; A2, A3 and B2 wait behind them.
    assertThat(executor.tasks).hasSize(2);
    assertThat(outbox.waiting()).isEqualTo(3);
    executor.runNext(); // A1 confirmed: A2 and A3 go together, in order
    executor.runAll();
    assertThat(sender.calls)
        .containsExactly(List.of("A1"), List.of("B1"), List.of("A2", "A3"), List.of("B2"));
    for (CompletableFuture<List<PublishReceipt>> f : futures) {
      assertThat(f.get()).hasSize(1);
    }
  }

  @Test
  void shouldMixMessageGroupsInOneBatch() {
    Outbox outbox = outbox(true, 1, 10_000);
    publish(outbox, "K0", "first");
    for (int i = 0; i < 12; i++) {
      publish(outbox, "K" + (i % 6), "m" + i);
    }
    executor.runAll();
    // Each group's waiting messages go together, in order, groups in the order they became ready
    // (K0 only when "first" was confirmed), ten per call.
    assertThat(sender.calls)
        .containsExactly(
            List.of("first"),
            List.of("m1", "m7", "m2", "m8", "m3", "m9", "m4", "m10", "m5", "m11"),
            List.of("m0", "m6"));
  }

  @Test
  void shouldFailWhatWaitsOfAKeyWhenOneOfItsMessagesIsRefusedButNotOtherKeys() throws Exception {
    Outbox outbox = outbox(true, 1, 10_000);
    sender.script =
        batch -> {
          for (Outbox.Entry e : batch) {
            if (e.message().payloadAsString().equals("A1")) {
              e.failure = new NonTransientPolybusException("refused A1");
            }
          }
        };
    CompletableFuture<List<PublishReceipt>> a1 = publish(outbox, "A", "A1");
    CompletableFuture<List<PublishReceipt>> a2 = publish(outbox, "A", "A2");
    CompletableFuture<List<PublishReceipt>> b1 = publish(outbox, "B", "B1");
    executor.runAll();
    assertThat(failure(a1)).isInstanceOf(NonTransientPolybusException.class);
    assertThat(failure(a2))
        .as("A2 would land before a retry of A1")
        .isInstanceOf(TransientPolybusException.class)
        .hasMessageContaining("not sent");
    assertThat(b1.get()).hasSize(1);
    assertThat(sender.calls).containsExactly(List.of("A1"), List.of("B1"));
    CompletableFuture<List<PublishReceipt>> a3 = publish(outbox, "A", "A3");
    executor.runAll();
    assertThat(a3.get()).as("a publish after the failure is sent").hasSize(1);
  }

  @Test
  void shouldFailWhatWaitsAsNotSentWhenACallFailsTransientlyNeverAsATimeout() throws Exception {
    Outbox outbox = outbox(false, 1, 10_000);
    sender.script =
        batch -> {
          if (sender.calls.size() == 1) {
            throw new PolybusTimeoutException("no answer within 10s");
          }
        };
    List<CompletableFuture<List<PublishReceipt>>> futures = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      futures.add(publish(outbox, null, "m" + i));
    }
    futures.add(publish(outbox, "other-topic", null, "m4"));
    executor.runNext();
    assertThat(failure(futures.get(0)))
        .as("the message that was sent")
        .isInstanceOf(PolybusTimeoutException.class);
    for (int i = 1; i < 5; i++) {
      assertThat(failure(futures.get(i)))
          .as("a message that waited, of this topic or another")
          .isInstanceOf(BrokerUnavailableException.class)
          .isNotInstanceOf(PolybusTimeoutException.class)
          .hasMessageContaining("not sent");
    }
    assertThat(sender.calls).hasSize(1);
    assertThat(outbox.waiting()).isZero();
    CompletableFuture<List<PublishReceipt>> after = publish(outbox, null, "after");
    executor.runAll();
    assertThat(after.get()).hasSize(1);
  }

  @Test
  void shouldFailWhatWaitsOfTheTopicWithBackPressureWhenItsCallIsThrottled() throws Exception {
    Outbox outbox = outbox(false, 1, 10_000);
    sender.script =
        batch -> {
          if (sender.calls.size() == 1) {
            throw new BackPressureException("throttled");
          }
        };
    CompletableFuture<List<PublishReceipt>> sent = publish(outbox, null, "m0");
    CompletableFuture<List<PublishReceipt>> waiting = publish(outbox, null, "m1");
    CompletableFuture<List<PublishReceipt>> other = publish(outbox, "other-topic", null, "o1");
    executor.runAll();
    assertThat(failure(sent)).isInstanceOf(BackPressureException.class);
    assertThat(failure(waiting))
        .isInstanceOf(BackPressureException.class)
        .hasMessageContaining("not sent");
    assertThat(other.get()).as("another topic's publish is not throttled").hasSize(1);
  }

  @Test
  void shouldRefuseNewPublishesAfterCloseAndFailWhatCouldNotBeSentByTheDeadline() {
    Outbox outbox = outbox(false, 1, 10_000);
    CompletableFuture<List<PublishReceipt>> inFlight = publish(outbox, null, "m0");
    CompletableFuture<List<PublishReceipt>> waiting = publish(outbox, null, "m1");
    outbox.close(System.nanoTime()); // the deadline has passed: nothing more is waited for
    assertThat(failure(waiting)).isInstanceOf(IllegalStateException.class);
    assertThat(failure(publish(outbox, null, "m2"))).isInstanceOf(IllegalStateException.class);
    executor.runAll();
    assertThat(inFlight).isCompleted();
    assertThat(sender.calls).containsExactly(List.of("m0"));
  }
}
