package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NamesTest {
  @Test
  void acceptsPortableNames() {
    for (String ok : new String[] {"orders", "a", "Orders.v2_x-y", "0", "x".repeat(100)}) {
      assertThat(Names.isPortable(ok)).as(ok).isTrue();
    }
  }

  @Test
  void rejectsEverythingElseWithAMessageThatSaysWhy() {
    for (String bad :
        new String[] {"", ".x", "-x", "a/b", "a b", "../etc", "x".repeat(101), "é", "a\u0000"}) {
      assertThat(Names.isPortable(bad)).as(bad).isFalse();
      assertThatThrownBy(() -> Names.checkTopic(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid topic name");
    }
    assertThatThrownBy(() -> Names.checkGroup(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void defaultDeadLetterTopicsStayPortableAndDistinct() {
    String t = "t".repeat(100);
    String a = DefaultPolybus.defaultDeadLetterTopic(t, "group-a");
    String b = DefaultPolybus.defaultDeadLetterTopic(t, "group-b");
    assertThat(Names.isPortable(a)).isTrue();
    assertThat(a).endsWith(".dlq").isNotEqualTo(b);
    assertThat(DefaultPolybus.defaultDeadLetterTopic("orders", "email"))
        .isEqualTo("orders.email.dlq");
  }
}
