package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves that a message arrives as it was published: every byte value, empty and maximal payloads,
 * unicode keys and header values, many headers in insertion order, and id, key and millisecond
 * timestamp unchanged; and that a message over the declared limits is rejected before anything of
 * its batch is published.
 *
 * <p>Each test opens its own bus and names. Rejection checks watch the group for a {@linkplain
 * TckTimeouts#quiet() quiet period}, then publish a sentinel and wait for it, so "nothing arrived"
 * is proven on a subscription that demonstrably works.
 */
public interface FidelityTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldDeliverEveryByteValueUnchanged() {
    byte[] payload = new byte[512];
    for (int i = 0; i < 256; i++) {
      payload[i] = (byte) i;
      payload[511 - i] = (byte) i;
    }
    Message received = roundTrip(Message.builder().payload(payload).build());
    assertThat(received.payload())
        .as("payload holding every byte value up and down")
        .isEqualTo(payload);
  }

  @Test
  @Timeout(120)
  default void shouldDeliverAnEmptyPayload() {
    Message received =
        roundTrip(Message.builder().payload(new byte[0]).header("empty", "yes").build());
    assertThat(received.payloadSize()).as("payload size").isZero();
    assertThat(received.payload()).as("payload").isEmpty();
    assertThat(received.header("empty")).as("header of the empty message").isEqualTo("yes");
  }

  @Test
  @Timeout(120)
  default void shouldDeliverAPayloadOfExactlyMaxPayloadBytesIntact() {
    byte[] payload = new byte[declaredCapabilities().maxPayloadBytes()];
    new Random(42).nextBytes(payload);
    Message received = roundTrip(Message.builder().payload(payload).build());
    assertThat(received.payloadSize())
        .as("size of a payload of exactly maxPayloadBytes")
        .isEqualTo(payload.length);
    assertThat(Arrays.equals(received.payload(), payload))
        .as("payload of exactly maxPayloadBytes intact")
        .isTrue();
  }

  @Test
  @Timeout(120)
  default void shouldDeliverAMessageAtBothTheSizeAndTheHeaderLimitIntact() {
    Message sent = atTheLimits(declaredCapabilities());
    Message received = roundTrip(sent);
    assertThat(received.headers())
        .as("maxHeaders headers of a message that also has a maximal payload")
        .containsExactlyEntriesOf(sent.headers());
    assertThat(Arrays.equals(received.payload(), sent.payload()))
        .as("maximal payload of a message with maxHeaders" + " headers intact")
        .isTrue();
  }

  /**
   * A message with a payload of exactly {@code maxPayloadBytes} and exactly {@code maxHeaders}
   * headers of 32 characters each: every limit a user may reach at once.
   */
  static Message atTheLimits(io.polybus.Capabilities caps) {
    byte[] payload = new byte[caps.maxPayloadBytes()];
    new Random(43).nextBytes(payload);
    Message.Builder b = Message.builder().key("at-the-limits").payload(payload);
    for (int i = 0; i < caps.maxHeaders(); i++) {
      b.header(
          String.format("limit-%03d", i), String.format("%-32s", "value " + i).replace(' ', '.'));
    }
    return b.build();
  }

  @Test
  @Timeout(120)
  default void shouldDeliverAMessageAtThePortableIdHeaderNameAndMetadataLimitsIntact() {
    Message sent = atThePortableLimits(uniqueName("id"));
    Message received = roundTrip(sent);
    assertThat(received.id())
        .as("an id of %d UTF-8 bytes", Message.MAX_ID_BYTES)
        .isEqualTo(sent.id());
    assertThat(received.key()).as("key").isEqualTo(sent.key());
    assertThat(received.headers())
        .as(
            "a header name of %d UTF-8 bytes, key and headers of %d bytes",
            Message.MAX_HEADER_NAME_BYTES, Message.MAX_METADATA_BYTES)
        .containsExactlyEntriesOf(sent.headers());
  }

  /**
   * A message at every portable limit of {@link Message} at once, in multi-byte characters (so a
   * backend that counts characters instead of bytes is caught): an id of {@link
   * Message#MAX_ID_BYTES} UTF-8 bytes, a header name of {@link Message#MAX_HEADER_NAME_BYTES}, and
   * key plus headers of exactly {@link Message#MAX_METADATA_BYTES}.
   */
  static Message atThePortableLimits(String unique) {
    String idHead = unique.length() > 60 ? unique.substring(0, 60) : unique;
    StringBuilder id = new StringBuilder(idHead).append('-');
    while (utf8(id) + 3 <= Message.MAX_ID_BYTES) {
      id.append('€');
    }
    while (utf8(id) < Message.MAX_ID_BYTES) {
      id.append('x');
    }
    String longName =
        "é".repeat(Message.MAX_HEADER_NAME_BYTES / 2) + "n"; // 127 two-byte characters and one byte
    String key = "clé-" + "鍵".repeat(100);
    int used = utf8(key) + utf8(longName) + "v".length() + "filler".length();
    String filler =
        "中".repeat((Message.MAX_METADATA_BYTES - used) / 3)
            + "x".repeat((Message.MAX_METADATA_BYTES - used) % 3);
    Message m =
        Message.builder()
            .id(id.toString())
            .key(key)
            .payload("at the portable limits")
            .header(longName, "v")
            .header("filler", filler)
            .build();
    if (utf8(m.id()) != Message.MAX_ID_BYTES
        || utf8(longName) != Message.MAX_HEADER_NAME_BYTES
        || utf8(key) + utf8(longName) + 1 + 6 + utf8(filler) != Message.MAX_METADATA_BYTES) {
      throw new AssertionError("the TCK built a message that is not at the portable limits: " + m);
    }
    return m;
  }

  private static int utf8(CharSequence s) {
    return s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  @Test
  @Timeout(120)
  default void shouldRejectAPayloadOneByteOverTheLimitAndPublishNothingOfItsBatch() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("fidelity-big");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, uniqueName("g"), inbox);
      Message tooBig = Message.of(new byte[bus.capabilities().maxPayloadBytes() + 1]);
      Message ok = Message.of("fits");
      assertThatThrownBy(() -> bus.publish(topic, tooBig))
          .as("publish of maxPayloadBytes + 1")
          .isInstanceOf(PayloadTooLargeException.class);
      assertThatThrownBy(() -> bus.publishAndWait(topic, tooBig))
          .as("publishAndWait of maxPayloadBytes + 1")
          .isInstanceOf(PayloadTooLargeException.class);
      assertThatThrownBy(() -> bus.publishAll(topic, List.of(ok, tooBig)))
          .as("publishAll of [fits, maxPayloadBytes + 1]")
          .isInstanceOf(PayloadTooLargeException.class);
      assertThatThrownBy(() -> bus.publishAllAndWait(topic, List.of(ok, tooBig)))
          .as("publishAllAndWait of [fits, maxPayloadBytes + 1]")
          .isInstanceOf(PayloadTooLargeException.class);
      assertNothingButASentinelArrives(bus, topic, inbox, "after rejected oversized publishes");
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepUnicodeInKeysAndHeaderValues() {
    Message sent =
        Message.builder()
            .key("clé-🔑-鍵-ключ")
            .payload("unicode ✓")
            .header("emoji", "😀🚀👩‍💻")
            .header("cjk", "中文 日本語 한국어")
            .header("accents", "àéîõü ñ ç ß Ø")
            .header("mixed", "a😀b中c é")
            .header("blank", "")
            .build();
    Message received = roundTrip(sent);
    assertThat(received.key()).as("unicode key").isEqualTo(sent.key());
    assertThat(received.headers())
        .as("unicode header values")
        .containsExactlyEntriesOf(sent.headers());
    assertThat(received.payloadAsString()).as("unicode payload").isEqualTo("unicode ✓");
  }

  @Test
  @Timeout(120)
  default void shouldKeepManyHeadersInInsertionOrder() {
    int count = Math.min(declaredCapabilities().maxHeaders(), 25);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      order.add(i);
    }
    Collections.shuffle(
        order, new Random(7)); // not sorted: insertion order must not be confused with name order
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i : order) {
      headers.put("h-" + (char) ('a' + i % 26) + "-" + i, "value-" + i);
    }
    Message received = roundTrip(Message.builder().payload("headers").headers(headers).build());
    assertThat(new ArrayList<>(received.headers().entrySet()))
        .as("%d headers in insertion order", count)
        .containsExactlyElementsOf(new ArrayList<>(headers.entrySet()));
  }

  @Test
  @Timeout(120)
  default void shouldRejectMoreThanMaxHeadersAndPublishNothing() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("fidelity-headers");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, uniqueName("g"), inbox);
      Message.Builder b = Message.builder().payload("too many headers");
      for (int i = 0; i <= bus.capabilities().maxHeaders(); i++) {
        b.header("h" + i, "v");
      }
      Message tooMany = b.build();
      assertThatThrownBy(() -> bus.publish(topic, tooMany))
          .as("publish with maxHeaders + 1 headers")
          .isInstanceOf(PayloadTooLargeException.class);
      assertThatThrownBy(() -> bus.publishAll(topic, List.of(Message.of("fits"), tooMany)))
          .as("publishAll of [fits, maxHeaders + 1 headers]")
          .isInstanceOf(PayloadTooLargeException.class);
      assertNothingButASentinelArrives(
          bus, topic, inbox, "after rejected publishes with too many headers");
    }
  }

  @Test
  @Timeout(120)
  default void shouldPreserveIdKeyAndMillisecondTimestampExactly() {
    Message keyed =
        Message.builder()
            .id("tck-id-" + uniqueName("x"))
            .key("order-17")
            .payload("keyed")
            .timestamp(Instant.parse("2001-02-03T04:05:06.789Z"))
            .header("h", "v")
            .build();
    Message received = roundTrip(keyed);
    assertThat(received.id()).as("id").isEqualTo(keyed.id());
    assertThat(received.key()).as("key").isEqualTo("order-17");
    assertThat(received.timestampMillis()).as("timestamp in milliseconds").isEqualTo(981173106789L);
    assertThat(received)
        .as("the whole message (id, key, payload, headers, timestamp)")
        .isEqualTo(keyed);

    Message unkeyed =
        Message.builder()
            .payload("unkeyed")
            .timestampMillis(System.currentTimeMillis() - 12345)
            .build();
    Message received2 = roundTrip(unkeyed);
    assertThat(received2.key()).as("key of a message published without one").isNull();
    assertThat(received2.timestampMillis())
        .as("timestamp in milliseconds")
        .isEqualTo(unkeyed.timestampMillis());
    assertThat(received2).as("the whole unkeyed message").isEqualTo(unkeyed);
  }

  /**
   * Publishes {@code sent} to a fresh topic with a group and returns the one message that arrives.
   */
  private Message roundTrip(Message sent) {
    try (Polybus bus = connect()) {
      String topic = uniqueName("fidelity");
      Inbox inbox = new Inbox();
      bus.subscribe(topic, uniqueName("g"), inbox);
      bus.publishAndWait(topic, sent);
      inbox.awaitIds(List.of(sent.id()), timeouts().await(), "one message");
      return inbox.of(sent.id()).get(0).message();
    }
  }

  /**
   * Watches {@code inbox} for a quiet period, then publishes a sentinel and waits for it: proves
   * that only the sentinel arrived on a subscription that works.
   */
  private void assertNothingButASentinelArrives(
      Polybus bus, String topic, Inbox inbox, String when) {
    quietPeriod();
    assertThat(inbox.ids()).as("messages delivered %s", when).isEmpty();
    Message sentinel = Message.of("sentinel");
    bus.publishAndWait(topic, sentinel);
    inbox.awaitIds(List.of(sentinel.id()), timeouts().await(), "the sentinel");
    assertThat(inbox.ids())
        .as("messages delivered %s, then a sentinel", when)
        .containsExactly(sentinel.id());
  }
}
