package io.polybus.spool;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.BackPressureException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A private Kafka broker stopped under publishing load and started again: what was in flight and
 * everything after it is spooled (receipts say so), the bound fails publishes clearly, and once the
 * broker is back every completed publish arrives exactly once, in per-key publish order, with its
 * id, key, headers and timestamp.
 */
@Timeout(180)
class KafkaBrokerDownTest {
  @TempDir Path tmp;

  private static final int KEYS = 10;
  private static final int BOUND = 1500;

  @Test
  void publishesSpoolWhileTheBrokerIsDownAndArriveOnceInKeyOrderWhenItIsBack() throws Exception {
    try (PrivateKafka kafka = PrivateKafka.start(tmp)) {
      String uri = kafka.uri() + "?publishTimeout=2s&linger=1ms";
      String topic = "spool-down-" + System.nanoTime();
      Path dir = tmp.resolve("spool");
      Inbox inbox = new Inbox();
      try (Polybus consumer = Polybus.connect(uri);
          Spool spool =
              Spool.open(
                  Polybus.connect(uri),
                  SpoolOptions.builder(dir)
                      .maxMessages(BOUND)
                      .sendTimeout(Duration.ofSeconds(10))
                      .retryBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                      .build())) {
        consumer.subscribe(
            topic,
            "check",
            inbox,
            SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
        List<String> firstGeneration = generations(dir);
        assertThat(firstGeneration).hasSize(1);

        Map<String, Message> published = new HashMap<>();
        List<CompletableFuture<PublishReceipt>> direct = new ArrayList<>();
        int n = 0;
        for (; n < 200; n++) {
          Message m = message(n);
          published.put(m.id(), m);
          direct.add(spool.publish(topic, m));
        }
        for (CompletableFuture<PublishReceipt> f : direct) {
          assertThat(f.get(30, TimeUnit.SECONDS).spooled())
              .as("broker up: sent directly")
              .isFalse();
        }

        // Publish without waiting, 100 in flight at most, while the broker stops; stop at the
        // bound.
        Semaphore window = new Semaphore(100);
        List<CompletableFuture<PublishReceipt>> during = new ArrayList<>();
        List<Message> duringMessages = new ArrayList<>();
        BackPressureException full = null;
        long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        boolean stopped = false;
        while (full == null && System.nanoTime() < stopAt) {
          if (n == 400) {
            kafka.stop(); // publishes of messages 200..399 are in flight or done by now
            stopped = true;
          }
          window.acquire();
          Message m = message(n++);
          CompletableFuture<PublishReceipt> f = spool.publish(topic, m);
          f.whenComplete((r, e) -> window.release());
          if (f.isCompletedExceptionally()) {
            try {
              f.join();
            } catch (CompletionException e) {
              assertThat(e.getCause()).isInstanceOf(BackPressureException.class);
              full = (BackPressureException) e.getCause();
            }
            break;
          }
          published.put(m.id(), m);
          during.add(f);
          duringMessages.add(m);
        }
        assertThat(stopped).isTrue();
        assertThat(full).as("the bound was reached while the broker was down").isNotNull();
        assertThat(full.getMessage())
            .contains(dir.toAbsolutePath().toString())
            .contains("maxMessages " + BOUND);

        int spooled = 0;
        for (CompletableFuture<PublishReceipt> f : during) {
          if (f.get(30, TimeUnit.SECONDS).spooled()) {
            spooled++;
          }
        }
        SpoolPending p = spool.pending();
        assertThat(spooled).as("spooled receipts").isGreaterThan(BOUND - 200);
        assertThat(p.messages()).isEqualTo(spooled);
        assertThat(p.spoolingAll()).isTrue();
        assertThat(p.oldestAge()).isPositive();

        kafka.start();
        inbox.awaitIds(published.keySet(), Duration.ofSeconds(90), "every completed publish");
        Await.until(
            Duration.ofSeconds(30), "the spool drained", () -> spool.pending().messages() == 0);
        assertThat(spool.pending().spoolingAll()).isFalse();
        Message last = message(n);
        published.put(last.id(), last);
        assertThat(spool.publishAndWait(topic, last).spooled())
            .as("direct again once drained")
            .isFalse();
        inbox.awaitIds(published.keySet(), Duration.ofSeconds(30), "the last one too");

        List<Message> delivered = inbox.messages();
        assertThat(inbox.distinctIds()).as("no duplicates").hasSize(delivered.size());
        assertThat(delivered.size()).as("each once").isEqualTo(published.size());
        for (Message got : delivered) {
          Message sent = published.get(got.id());
          if (sent != null) {
            assertThat(got).as("id, key, payload, headers, timestamp").isEqualTo(sent);
            assertThat(got.headers().keySet()).containsExactlyElementsOf(sent.headers().keySet());
          }
        }
        SpoolTest.assertInKeyOrder(delivered);
        // Drained after more than a segment was spooled: the spool moved on to a new generation
        // and deleted the old one, so its disk use shrinks back.
        Await.until(
            Duration.ofSeconds(10),
            () -> "a new generation instead of " + firstGeneration + ": " + generations(dir),
            () -> {
              List<String> now = generations(dir);
              return now.size() == 1 && !now.equals(firstGeneration);
            });
        System.out.printf(
            "broker down: %d published, %d spooled, bound hit at %d, %d delivered%n",
            published.size(), spooled, n, delivered.size());
      }
    }
  }

  private static List<String> generations(Path dir) {
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("gen-")).toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Message message(int i) {
    return Message.builder()
        .key("k" + (i % KEYS))
        .payload(("m" + i + " ").repeat(2000)) // about 12 KB: 1,500 of them pass a 16 MiB segment
        .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        .header("n", Integer.toString(i))
        .timestampMillis(1_700_000_000_000L + i)
        .build();
  }
}
