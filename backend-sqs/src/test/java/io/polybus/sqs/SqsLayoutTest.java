package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/** The message layout: what goes in the body and attributes, and that it reads back as sent. */
class SqsLayoutTest {
  private static Message roundTrip(Message m) {
    SqsLayout.Encoded e = SqsLayout.encode(m);
    assertThat(e.attributes().size()).as("attributes of %s", m).isLessThanOrEqualTo(10);
    return SqsLayout.decode(e.body(), e.attributes(), "sqs-id", 1L, null);
  }

  @Test
  void shouldSendTextAsItIsAndBinaryOrCarriageReturnsInBase64() {
    assertThat(SqsLayout.encode(Message.of("héllo\tworld\n")).body()).isEqualTo("héllo\tworld\n");
    SqsLayout.Encoded cr = SqsLayout.encode(Message.of("a\r\nb"));
    assertThat(cr.attributes().get(SqsLayout.ENC).stringValue()).isEqualTo("base64");
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    Message binary = Message.builder().payload(all).key("k").build();
    assertThat(roundTrip(binary).payload()).isEqualTo(all);
    Message empty = Message.builder().payload(new byte[0]).build();
    assertThat(SqsLayout.encode(empty).body()).isEqualTo(SqsLayout.EMPTY_BODY);
    assertThat(roundTrip(empty).payload()).isEmpty();
  }

  @Test
  void shouldKeepHeadersInOrderWhetherTheyTravelOneAttributeEachOrPacked() {
    Message sorted =
        Message.builder().payload("x").header("a-one", "1").header("b-two", "2").build();
    assertThat(SqsLayout.encode(sorted).attributes()).containsKeys("a-one", "b-two");
    assertThat(roundTrip(sorted).headers())
        .containsExactly(Map.entry("a-one", "1"), Map.entry("b-two", "2"));

    Message unsorted =
        Message.builder().payload("x").header("zeta", "1").header("alpha", "2").build();
    assertThat(SqsLayout.encode(unsorted).attributes())
        .containsKey(SqsLayout.HEADERS)
        .doesNotContainKey("zeta");
    assertThat(roundTrip(unsorted).headers())
        .containsExactly(Map.entry("zeta", "1"), Map.entry("alpha", "2"));

    Map<String, String> many = new LinkedHashMap<>();
    for (int i = 25; i > 0; i--) {
      many.put("h" + i, i % 3 == 0 ? "" : "välue " + i + "\u0001");
    }
    Message packed = Message.builder().payload("x").headers(many).key("ключ").build();
    Message back = roundTrip(packed);
    assertThat(back.headers()).containsExactlyEntriesOf(many);
    assertThat(back.key()).isEqualTo("ключ");
    assertThat(back.id()).isEqualTo(packed.id());
    assertThat(back.timestampMillis()).isEqualTo(packed.timestampMillis());
  }

  @Test
  void shouldReadMessagesOfOtherClients() {
    Map<String, MessageAttributeValue> attrs = new LinkedHashMap<>();
    attrs.put("b", MessageAttributeValue.builder().dataType("String").stringValue("2").build());
    attrs.put("a", MessageAttributeValue.builder().dataType("Number").stringValue("1").build());
    Message m = SqsLayout.decode("plain", attrs, "abc", 1234L, "group-7");
    assertThat(m.id()).isEqualTo("sqs-abc");
    assertThat(m.key()).isEqualTo("group-7");
    assertThat(m.timestampMillis()).isEqualTo(1234L);
    assertThat(new String(m.payload(), StandardCharsets.UTF_8)).isEqualTo("plain");
    assertThat(m.headers()).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
  }

  @Test
  void shouldCarryAttemptsOnACopyWithinTheTenAttributesAndNotAsAHeader() {
    // Key, base64 body and six sorted headers: every attribute taken, so the copy's headers must be
    // packed.
    Message full =
        Message.builder()
            .payload(new byte[] {0, 1})
            .key("k")
            .header("a", "1")
            .header("b", "2")
            .header("c", "3")
            .header("d", "4")
            .header("e", "5")
            .header("f", "6")
            .build();
    assertThat(SqsLayout.encode(full).attributes())
        .hasSize(10)
        .doesNotContainKey(SqsLayout.ATTEMPTS);
    SqsLayout.Encoded copy = SqsLayout.encode(full, 3);
    assertThat(copy.attributes()).hasSizeLessThanOrEqualTo(10).containsKey(SqsLayout.HEADERS);
    assertThat(SqsLayout.attempts(copy.attributes())).isEqualTo(3);
    Message back = SqsLayout.decode(copy.body(), copy.attributes(), "sqs-id", 1L, null);
    assertThat(back).isEqualTo(full);
    assertThat(back.headers()).doesNotContainKey(SqsLayout.ATTEMPTS);

    assertThat(SqsLayout.attempts(SqsLayout.encode(full).attributes()))
        .as("a message that is no copy")
        .isZero();
    Map<String, MessageAttributeValue> damaged =
        Map.of(
            SqsLayout.ATTEMPTS,
            MessageAttributeValue.builder().dataType("Number").stringValue("-2").build());
    assertThat(SqsLayout.attempts(damaged)).as("a negative count is no count").isZero();
  }
}
