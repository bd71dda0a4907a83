package io.polybus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageTest {
  @Test
  void generatesUniqueTimeOrderedIds() {
    Set<String> ids = new HashSet<>();
    String previous = "";
    for (int i = 0; i < 10_000; i++) {
      String id = Message.of("x").id();
      assertThat(id).hasSize(26);
      assertThat(ids.add(id)).isTrue();
      previous = id;
    }
    Message early = Message.builder().timestampMillis(1_000).build();
    Message late = Message.builder().timestampMillis(2_000_000_000_000L).build();
    assertThat(early.id().compareTo(late.id())).isNegative();
    assertThat(previous).isNotEmpty();
  }

  @Test
  void copiesThePayloadInAndOut() {
    byte[] bytes = {1, 2, 3};
    Message m = Message.of(bytes);
    bytes[0] = 9;
    assertThat(m.payload()).containsExactly(1, 2, 3);
    m.payload()[1] = 9;
    assertThat(m.payload()).containsExactly(1, 2, 3);
  }

  @Test
  void keepsHeaderInsertionOrderAndRejectsTheReservedPrefix() {
    Message m = Message.builder().header("z", "1").header("a", "2").header("m", "3").build();
    assertThat(m.headers().keySet()).containsExactly("z", "a", "m");
    assertThatThrownBy(() -> Message.builder().header("Polybus-x", "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved");
    assertThatThrownBy(() -> m.headers().put("b", "c"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void carriesDeliverAtInItsReservedHeaderWhichOnlyTheBuilderMethodsSet() {
    Instant at = Instant.ofEpochMilli(1_800_000_000_123L);
    Message m = Message.builder().payload("p").deliverAt(at.plusNanos(999)).build();
    assertThat(m.deliverAt()).isEqualTo(at);
    assertThat(m.header(Message.DELIVER_AT_HEADER)).isEqualTo("1800000000123");
    assertThat(m.newBuilder().build().deliverAt()).isEqualTo(at);
    assertThat(m.newBuilder().deliverAt(null).build().deliverAt()).isNull();
    assertThat(Message.of("p").deliverAt()).isNull();

    long before = System.currentTimeMillis();
    Message later = Message.builder().deliverAfter(java.time.Duration.ofMinutes(5)).build();
    assertThat(later.deliverAt().toEpochMilli() - before).isBetween(300_000L, 301_000L);
    assertThat(Message.builder().deliverAfter(java.time.Duration.ZERO).build().deliverAt())
        .isNull();
    assertThatThrownBy(() -> Message.builder().deliverAfter(java.time.Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
    assertThatThrownBy(() -> Message.builder().header(Message.DELIVER_AT_HEADER, "0"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reserved");
  }

  @Test
  void newBuilderKeepsIdAndTimestamp() {
    Message m = Message.builder().key("k").payload("p").timestamp(Instant.ofEpochMilli(42)).build();
    Message copy = m.newBuilder().header("h", "v").build();
    assertThat(copy.id()).isEqualTo(m.id());
    assertThat(copy.timestampMillis()).isEqualTo(42);
    assertThat(copy.key()).isEqualTo("k");
  }

  @Test
  void rejectsEmptyKeysAndBadIds() {
    assertThatThrownBy(() -> Message.builder().key(""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Message.builder().id("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Message.builder().id("a\nb"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Message.builder().payload((byte[]) null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void toStringShowsNoPayloadOrHeaderValues() {
    Message m = Message.builder().payload("secret-body").header("auth", "secret-header").build();
    assertThat(m.toString()).doesNotContain("secret-body", "secret-header").contains("auth");
  }

  @Test
  void refusesLoneSurrogatesInIdKeyAndHeadersNamingTheField() {
    String lone = "a\uD800b";
    assertThatThrownBy(() -> Message.builder().id(lone))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message id")
        .hasMessageContaining("surrogate");
    assertThatThrownBy(() -> Message.builder().key("\uDC00"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("message key");
    assertThatThrownBy(() -> Message.builder().header(lone, "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("header name");
    assertThatThrownBy(() -> Message.builder().header("h", "x\uD83D"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value of header 'h'");
    String pair = "\uD83D\uDE00"; // one emoji: a well-formed surrogate pair
    Message ok = Message.builder().id(pair).key(pair).header(pair, pair).build();
    assertThat(ok.key()).isEqualTo(pair);
  }

  @Test
  void limitsIdsAndHeaderNamesByTheirUtf8Length() {
    assertThat(Message.builder().id("x".repeat(Message.MAX_ID_BYTES)).build().id()).hasSize(200);
    // 67 three-byte characters are 201 bytes: one over, though only 67 characters
    assertThatThrownBy(() -> Message.builder().id("€".repeat(67)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Message.MAX_ID_BYTES + " bytes");
    assertThat(Message.builder().header("é".repeat(127), "v").build().headers()).hasSize(1);
    assertThatThrownBy(() -> Message.builder().header("é".repeat(128), "v"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("255 bytes");
  }
}
