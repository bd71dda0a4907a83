package io.polybus.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RawKeyTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void keysWithTheSameBytesAreEqualWhateverArrayHoldsThem() {
    assertThat(RawKey.of(utf8("order-7")))
        .isEqualTo(RawKey.of(utf8("order-7")))
        .hasSameHashCodeAs(RawKey.of(utf8("order-7")));
    assertThat(RawKey.of(utf8("ünï"))).isEqualTo(RawKey.of(utf8("ünï")));
  }

  @Test
  void keysWithDifferentBytesAreNotEqual() {
    assertThat(RawKey.of(utf8("order-7"))).isNotEqualTo(RawKey.of(utf8("order-8")));
    assertThat(RawKey.of(utf8("a"))).isNotEqualTo(RawKey.of(utf8("a ")));
    assertThat(RawKey.of(new byte[] {0})).isNotEqualTo(RawKey.of(new byte[] {0, 0}));
    assertThat(RawKey.of(utf8("a"))).isNotEqualTo("a");
  }

  @Test
  void aMissingKeyIsNoKey() {
    assertThat(RawKey.of(null)).isNull();
  }

  @Test
  void anEmptyKeyIsNoKeyAsInARestoredMessage() {
    assertThat(RawKey.of(new byte[0])).isNull();
    assertThat(Messages.restore("id-1", "", new byte[0], java.util.Map.of(), 0).key()).isNull();
  }
}
