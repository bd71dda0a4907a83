package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Capabilities;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusOptions;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The portable size limits are checked for every message of a batch before the backend sees any of
 * it.
 */
class PublishLimitsTest {
  @Test
  void aBatchWithOneMessageOverTheMetadataLimitPublishesNothing() {
    RecordingBackend backend = new RecordingBackend();
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("recording:"), backend)) {
      Message bigKey = Message.builder().key("k".repeat(17 << 20)).payload("x").build();
      assertThatThrownBy(
              () -> bus.publishAllAndWait("t", List.of(Message.of("m1"), Message.of("m2"), bigKey)))
          .isInstanceOf(PayloadTooLargeException.class)
          .hasMessageContaining(bigKey.id())
          .hasMessageContaining(Integer.toString(Message.MAX_METADATA_BYTES));
      Message bigHeader = Message.builder().header("h", "v".repeat(200_000)).build();
      assertThatThrownBy(() -> bus.publish("t", bigHeader))
          .isInstanceOf(PayloadTooLargeException.class);
      Message multiByte =
          Message.builder().key("€".repeat(Message.MAX_METADATA_BYTES / 3 + 1)).build();
      assertThatThrownBy(() -> bus.publish("t", multiByte))
          .as("counted in UTF-8 bytes, not characters")
          .isInstanceOf(PayloadTooLargeException.class);
      assertThat(backend.published).as("messages the backend was asked to publish").isEmpty();
    }
  }

  @Test
  void aMessageAtTheMetadataLimitIsPublished() {
    RecordingBackend backend = new RecordingBackend();
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("recording:"), backend)) {
      int half = Message.MAX_METADATA_BYTES / 2;
      Message m = Message.builder().key("k".repeat(half - 1)).header("h", "v".repeat(half)).build();
      bus.publishAndWait("t", m);
      assertThat(backend.published).containsExactly(m);
    }
  }

  /** Accepts every publish and remembers it; consumes nothing. */
  static final class RecordingBackend implements Backend {
    final List<Message> published = new ArrayList<>();

    @Override
    public Capabilities capabilities() {
      return Capabilities.builder().build();
    }

    @Override
    public synchronized CompletableFuture<List<PublishReceipt>> publish(
        String topic, List<Message> messages) {
      published.addAll(messages);
      List<PublishReceipt> receipts = new ArrayList<>();
      for (Message m : messages) {
        receipts.add(new PublishReceipt(topic, m.id(), "0"));
      }
      return CompletableFuture.completedFuture(receipts);
    }

    @Override
    public void ensureGroup(String topic, String group, StartFrom startFrom) {}

    @Override
    public BackendConsumer subscribe(ConsumerSpec spec) {
      throw new UnsupportedOperationException("this test subscribes to nothing");
    }

    @Override
    public Health health() {
      return Health.up("recording");
    }

    @Override
    public void close() {}
  }
}
