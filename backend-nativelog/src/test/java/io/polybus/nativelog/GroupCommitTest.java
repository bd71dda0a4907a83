package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fsync=sync}: publishes of many threads share forces, and every one of them is confirmed
 * exactly once.
 */
@Timeout(60)
class GroupCommitTest {
  @TempDir Path dir;

  @Test
  void manyConcurrentSyncPublishersAreAllConfirmedAndEveryMessageIsThere() throws Exception {
    int threads = 16;
    int each = 200;
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=2&segmentSize=2m&fsync=sync")) {
      List<Thread> publishers = new ArrayList<>();
      Set<String> confirmed = ConcurrentHashMap.newKeySet();
      List<Throwable> errors = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        Thread p =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < each; i++) {
                      PublishReceipt r =
                          bus.publishAndWait(
                              "t",
                              Message.builder().key("k" + (i % 7)).payload(id + "-" + i).build());
                      confirmed.add(r.messageId());
                    }
                  } catch (Throwable e) {
                    synchronized (errors) {
                      errors.add(e);
                    }
                  }
                });
        publishers.add(p);
        p.start();
      }
      for (Thread p : publishers) {
        p.join();
      }
      assertThat(errors).isEmpty();
      assertThat(confirmed).hasSize(threads * each);
      Set<String> got = ConcurrentHashMap.newKeySet();
      bus.subscribe(
          "t",
          "g",
          d -> got.add(d.message().id()),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < threads * each && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(got).isEqualTo(confirmed);
    }
  }

  @Test
  void publishesInFlightWhenTheBusClosesAreStillConfirmed() throws Exception {
    List<CompletableFuture<PublishReceipt>> futures = new ArrayList<>();
    try (Polybus bus = Polybus.connect("log:" + dir + "?partitions=1&segmentSize=2m&fsync=sync")) {
      for (int i = 0; i < 2000; i++) {
        futures.add(bus.publish("t", Message.of("m" + i)));
      }
    }
    for (CompletableFuture<PublishReceipt> f : futures) {
      assertThat(f.get(10, TimeUnit.SECONDS).messageId()).isNotNull();
    }
  }
}
