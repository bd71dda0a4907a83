package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The partition hash: MurmurHash3 (x86, 32 bit, seed 0), the same over a string and over its bytes
 * in a frame.
 */
class Murmur3Test {
  @Test
  void matchesTheReferenceValues() {
    assertThat(Murmur3.hash("")).isZero();
    assertThat(Murmur3.hash("hello")).isEqualTo(0x248bfa47);
    assertThat(Murmur3.hash("hello, world")).isEqualTo(0x149bbb7f);
    assertThat(Murmur3.hash("The quick brown fox jumps over the lazy dog")).isEqualTo(0x2e4ff723);
  }

  @Test
  void theKeyHashOfAnEncodedMessageIsTheHashOfItsKey() {
    RecordCodec codec = new RecordCodec();
    for (String key :
        new String[] {"a", "ab", "abc", "abcd", "abcde", "order-123456", "ключ", "\uD83D\uDE00x"}) {
      codec.encode(Message.builder().key(key).payload("p").header("h", "v").build());
      assertThat(codec.keyHash()).as(key).isEqualTo(Murmur3.hash(key));
      byte[] b = ("xx" + key).getBytes(StandardCharsets.UTF_8);
      assertThat(Murmur3.hash(b, 2, b.length - 2)).as(key).isEqualTo(Murmur3.hash(key));
    }
    codec.encode(Message.of("no key"));
    assertThat(codec.keyHash()).isEqualTo(Integer.MIN_VALUE);
  }
}
