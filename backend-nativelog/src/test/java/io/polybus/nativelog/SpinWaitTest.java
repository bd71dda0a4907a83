package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.nativelog.internal.LogRetention;
import io.polybus.nativelog.internal.NativeLogBackend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link NativeLogBackend.Wait#SPIN}: a consumer that spins instead of parking still follows the
 * poll contract.
 */
@Timeout(60)
class SpinWaitTest {
  @TempDir Path dir;

  private NativeLogBackend open() throws Exception {
    return new NativeLogBackend(
        dir,
        2,
        1 << 20,
        64 << 10,
        NativeLogBackend.Fsync.NONE,
        1000,
        TimeUnit.SECONDS.toNanos(2),
        LogRetention.FOREVER,
        NativeLogBackend.Wait.SPIN);
  }

  private static ConsumerSpec spec() {
    return new ConsumerSpec(
        "t", "g", Ordering.KEY, StartFrom.EARLIEST, Duration.ofSeconds(30), 1000);
  }

  @Test
  void aSpinningConsumerGetsEveryRecordPublishedWhileItPolls() throws Exception {
    try (NativeLogBackend backend = open()) {
      BackendConsumer consumer = backend.subscribe(spec());
      int n = 2000;
      Thread publisher =
          new Thread(
              () -> {
                for (int i = 0; i < n; i++) {
                  backend
                      .publish(
                          "t",
                          List.of(Message.builder().key("k" + (i % 10)).payload("m" + i).build()))
                      .join();
                  if (i % 100 == 0) {
                    try {
                      Thread.sleep(1); // let the consumer run dry and spin now and then
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                }
              });
      publisher.start();
      List<String> got = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < n && System.nanoTime() < deadline) {
        for (InboundRecord r : consumer.poll(256, Duration.ofMillis(100))) {
          got.add(r.message().payloadAsString());
          r.ack();
        }
      }
      publisher.join();
      assertThat(got).hasSize(n).doesNotHaveDuplicates();
      consumer.close();
    }
  }

  @Test
  void anIdleSpinningPollReturnsEmptyAtItsTimeoutAndAtOnceOnWakeup() throws Exception {
    try (NativeLogBackend backend = open()) {
      BackendConsumer consumer = backend.subscribe(spec());
      long t0 = System.nanoTime();
      assertThat(consumer.poll(10, Duration.ofMillis(100))).isEmpty();
      long took = System.nanoTime() - t0;
      assertThat(took).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
      assertThat(took).isLessThan(TimeUnit.SECONDS.toNanos(5));
      Thread waker =
          new Thread(
              () -> {
                try {
                  Thread.sleep(100);
                } catch (InterruptedException e) {
                  return;
                }
                consumer.wakeup();
              });
      waker.start();
      t0 = System.nanoTime();
      assertThat(consumer.poll(10, Duration.ofSeconds(20))).isEmpty();
      assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(10));
      waker.join();
      consumer.close();
    }
  }

  @Test
  void theUriChoosesTheSpinningConsumer() throws Exception {
    try (Polybus bus = Polybus.connect("log:" + dir + "?wait=spin&partitions=2")) {
      Set<String> got = ConcurrentHashMap.newKeySet();
      bus.subscribe(
          "t",
          "g",
          d -> got.add(d.message().payloadAsString()),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      for (int i = 0; i < 100; i++) {
        bus.publishAndWait("t", Message.of("m" + i));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < 100 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(got).hasSize(100);
    }
    assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?wait=sometimes"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("wait");
  }
}
