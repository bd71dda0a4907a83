package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.tck.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Members joining and leaving while a stream flows: partitions move, nothing is lost, each key
 * stays in order.
 */
class KafkaRebalanceTest {
  private static final int KEYS = 24;
  private static final int MESSAGES = 3000;

  @Test
  @Timeout(120)
  void shouldLoseNothingAndKeepKeyOrderWhenAThirdMemberJoinsAndOneLeavesMidStream()
      throws Exception {
    String topic = KafkaTestSupport.unique("rebalance");
    String group = "g";
    Map<String, List<Integer>> seenByKey = new ConcurrentHashMap<>();
    Set<Integer> handled = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    SubscribeOptions opts = SubscribeOptions.builder().concurrency(2).maxInFlight(64).build();
    try (Polybus bus = Polybus.connect(KafkaTckTest.uri())) {
      io.polybus.Handler handler =
          d -> {
            int seq = Integer.parseInt(d.message().payloadAsString());
            // Under KEY ordering no two deliveries of one key run at once, so appending here
            // records handling order.
            seenByKey.computeIfAbsent(d.message().key(), k -> new ArrayList<>()).add(seq);
            handled.add(seq);
            deliveries.incrementAndGet();
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(300));
          };
      AtomicInteger byThird = new AtomicInteger();
      Subscription a = bus.subscribe(topic, group, handler, opts);
      bus.subscribe(topic, group, handler, opts);
      Subscription c = null;
      for (int i = 0; i < MESSAGES; i += 100) {
        List<Message> batch = new ArrayList<>();
        for (int j = i; j < i + 100; j++) {
          batch.add(
              Message.builder()
                  .key("k" + (j % KEYS))
                  .payload(Integer.toString(j).getBytes(StandardCharsets.UTF_8))
                  .build());
        }
        bus.publishAllAndWait(topic, batch);
        if (i == MESSAGES / 3) {
          c =
              bus.subscribe(
                  topic,
                  group,
                  d -> { // a third member joins mid-stream
                    handler.handle(d);
                    byThird.incrementAndGet();
                  },
                  opts);
        } else if (i == 2 * MESSAGES / 3) {
          a.close(); // the first leaves mid-stream, draining its handlers
        }
        Thread.sleep(40);
      }
      Await.until(
          Duration.ofSeconds(60),
          () -> "every message handled (" + handled.size() + " of " + MESSAGES + ")",
          () -> handled.size() == MESSAGES);
      Thread.sleep(1000); // a quiet period: nothing more may arrive
      assertThat(c).isNotNull();
      assertThat(byThird.get())
          .as("messages handled by the member that joined mid-stream")
          .isPositive();
      assertThat(deliveries.get())
          .as("deliveries (no duplicates when members join and leave cleanly)")
          .isEqualTo(MESSAGES);
      for (Map.Entry<String, List<Integer>> e : seenByKey.entrySet()) {
        assertThat(e.getValue()).as("handling order of key %s", e.getKey()).isSorted();
      }
      assertThat(seenByKey).hasSize(KEYS);
    }
  }
}
