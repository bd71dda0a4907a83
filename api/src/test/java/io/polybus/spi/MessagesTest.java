package io.polybus.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MessagesTest {
  private static final byte[] PAYLOAD = "body".getBytes(StandardCharsets.UTF_8);

  private static Message complete() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("trace", "t-1");
    headers.put("polybus-dlq-reason", "kept through brokers");
    return Messages.restore("id-1", "key-1", PAYLOAD, headers, 1_000L);
  }

  @Test
  void lazyMessageDecodesIdAndHeadersOnlyWhenAskedAndOnlyOnce() {
    AtomicInteger decodes = new AtomicInteger();
    Message lazy =
        Messages.restoreLazily(
            "key-1",
            PAYLOAD,
            1_000L,
            () -> {
              decodes.incrementAndGet();
              return complete();
            });

    assertThat(lazy.key()).isEqualTo("key-1");
    assertThat(lazy.payloadAsString()).isEqualTo("body");
    assertThat(lazy.timestampMillis()).isEqualTo(1_000L);
    assertThat(decodes).hasValue(0);

    assertThat(lazy.id()).isEqualTo("id-1");
    assertThat(lazy.header("trace")).isEqualTo("t-1");
    assertThat(lazy.headers()).containsKeys("trace", "polybus-dlq-reason");
    assertThat(decodes).hasValue(1);
  }

  @Test
  void lazyMessageIsEqualToTheCompleteOneAndDerivesCopiesWithItsIdAndHeaders() {
    Message lazy = Messages.restoreLazily("key-1", PAYLOAD, 1_000L, MessagesTest::complete);

    assertThat(lazy).isEqualTo(complete()).hasSameHashCodeAs(complete());
    assertThat(complete()).isEqualTo(lazy);
    assertThat(lazy.toString()).isEqualTo(complete().toString());

    Message copy = lazy.newBuilder().key("key-2").build();
    assertThat(copy.id()).isEqualTo("id-1");
    assertThat(copy.key()).isEqualTo("key-2");
    assertThat(copy.header("trace")).isEqualTo("t-1");

    Message withExtra = Messages.withHeaders(lazy, Map.of("extra", "x"));
    assertThat(withExtra.id()).isEqualTo("id-1");
    assertThat(withExtra.headers()).containsKeys("trace", "extra");
  }

  @Test
  void lazyMessageTreatsAnEmptyKeyAsNoKey() {
    Message lazy =
        Messages.restoreLazily(
            "", PAYLOAD, 1_000L, () -> Messages.restore("id-2", null, PAYLOAD, Map.of(), 1_000L));

    assertThat(lazy.key()).isNull();
    assertThat(lazy.id()).isEqualTo("id-2");
  }
}
