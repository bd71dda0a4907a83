package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class PriorityLanesTest {
  /** A lane that hands out what the test queued and notes every poll's {@code max}. */
  static final class Lane implements BackendConsumer {
    final ConcurrentLinkedQueue<InboundRecord> waiting = new ConcurrentLinkedQueue<>();
    final List<Integer> polls = new CopyOnWriteArrayList<>();
    volatile boolean closed;
    volatile boolean woken;

    void add(String payload, int n) {
      for (int i = 0; i < n; i++) {
        Message m = Message.of(payload + "-" + i);
        waiting.add(
            new InboundRecord() {
              @Override
              public Message message() {
                return m;
              }

              @Override
              public int deliveryCount() {
                return 1;
              }

              @Override
              public void ack() {}

              @Override
              public void release(Duration delay) {}
            });
      }
    }

    @Override
    public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
      polls.add(max);
      long deadline = System.nanoTime() + timeout.toNanos();
      List<InboundRecord> out = new ArrayList<>();
      while (true) {
        InboundRecord r;
        while (out.size() < max && (r = waiting.poll()) != null) {
          out.add(r);
        }
        if (!out.isEmpty() || max <= 0 || woken || System.nanoTime() - deadline >= 0) {
          woken = false;
          return out;
        }
        Thread.sleep(1);
      }
    }

    @Override
    public void wakeup() {
      woken = true;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static List<String> payloads(List<InboundRecord> records) {
    return records.stream().map(r -> r.message().payloadAsString()).toList();
  }

  @Test
  void takesWhatTheHighLaneHasBeforeAskingTheNormalOne() throws Exception {
    Lane high = new Lane();
    Lane normal = new Lane();
    PriorityLanes lanes = new PriorityLanes(high, normal);
    normal.add("normal", 3);
    high.add("high", 2);
    assertThat(payloads(lanes.poll(5, Duration.ofSeconds(1)))).containsExactly("high-0", "high-1");
    assertThat(payloads(lanes.poll(5, Duration.ofSeconds(1))))
        .containsExactly("normal-0", "normal-1", "normal-2");
    assertThat(lanes.poll(5, Duration.ofMillis(200))).as("both lanes empty").isEmpty();
    high.add("late", 1);
    assertThat(payloads(lanes.poll(5, Duration.ofSeconds(1)))).containsExactly("late-0");
  }

  @Test
  void keepsPollingTheNormalLaneAsAHeartbeatWhileTheHighLaneStaysBusy() throws Exception {
    Lane high = new Lane();
    Lane normal = new Lane();
    PriorityLanes lanes = new PriorityLanes(high, normal);
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(600);
    while (System.nanoTime() < end) {
      high.add("high", 1);
      assertThat(lanes.poll(1, Duration.ofSeconds(1))).hasSize(1);
      Thread.sleep(5);
    }
    // Every poll went to the busy high lane; the normal one still heard from its member.
    assertThat(normal.polls).as("heartbeats of the normal lane in 600 ms").hasSizeGreaterThan(3);
    assertThat(normal.polls).containsOnly(0);
  }

  @Test
  void wakeupEndsAWaitingPollAndCloseClosesBothLanes() throws Exception {
    Lane high = new Lane();
    Lane normal = new Lane();
    PriorityLanes lanes = new PriorityLanes(high, normal);
    CountDownLatch returned = new CountDownLatch(1);
    Thread t =
        new Thread(
            () -> {
              try {
                lanes.poll(10, Duration.ofSeconds(20));
                returned.countDown();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    t.start();
    Thread.sleep(100);
    lanes.wakeup();
    assertThat(returned.await(2, TimeUnit.SECONDS)).as("poll returned after wakeup").isTrue();
    lanes.close();
    assertThat(high.closed).isTrue();
    assertThat(normal.closed).isTrue();
  }
}
