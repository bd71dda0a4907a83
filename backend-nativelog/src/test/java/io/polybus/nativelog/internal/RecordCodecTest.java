package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A record body is checked once when it is read and decoded only when a handler reads the message:
 * the check accepts exactly what decodes, and finds the key without decoding anything.
 */
class RecordCodecTest {
  private static byte[] body(Message m) {
    RecordCodec codec = new RecordCodec();
    codec.encode(m);
    return Arrays.copyOfRange(
        codec.frame(), RecordCodec.BODY_START, RecordCodec.BODY_START + codec.length());
  }

  @Test
  void aCheckedBodyDecodesToTheMessageAndTheCheckFindsItsKey() throws Exception {
    Message[] messages = {
      Message.builder().key("order-1").payload("p").header("h", "v").header("i", "w").build(),
      Message.builder().key("ключ").payload(new byte[0]).build(),
      Message.of("no key")
    };
    for (Message m : messages) {
      byte[] body = body(m);
      int keyField = RecordCodec.check(body, 0, body.length);
      assertThat(RecordCodec.decodeChecked(body, m.timestampMillis())).isEqualTo(m);
      int keyLength = RecordCodec.int32(body, keyField);
      if (m.key() == null) {
        assertThat(keyLength).isEqualTo(-1);
      } else {
        assertThat(new String(body, keyField + 4, keyLength, StandardCharsets.UTF_8))
            .isEqualTo(m.key());
      }
    }
  }

  @Test
  void theCheckRefusesBodiesThatEndEarlyRunOnOrHaveNegativeLengths() {
    byte[] body = body(Message.builder().key("k").payload("payload").header("h", "v").build());
    for (int cut = 0; cut < body.length; cut++) {
      int length = cut;
      assertThatThrownBy(() -> RecordCodec.check(body, 0, length))
          .as("cut at %d", cut)
          .isInstanceOf(CorruptLogException.class);
    }
    byte[] longer = Arrays.copyOf(body, body.length + 1);
    assertThatThrownBy(() -> RecordCodec.check(longer, 0, longer.length))
        .isInstanceOf(CorruptLogException.class)
        .hasMessageContaining("trailing");
    byte[] badKey = body.clone();
    int keyField = 4 + RecordCodec.int32(body, 0); // after the id
    badKey[keyField] = (byte) 0xfe; // key length -2 (little-endian 0xfffffffe)
    badKey[keyField + 1] = (byte) 0xff;
    badKey[keyField + 2] = (byte) 0xff;
    badKey[keyField + 3] = (byte) 0xff;
    assertThatThrownBy(() -> RecordCodec.check(badKey, 0, badKey.length))
        .isInstanceOf(CorruptLogException.class)
        .hasMessageContaining("negative length");
  }
}
