package io.polybus.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.RedisClient;

/**
 * {@code uncountedGiveBack} at the SPI, without the runtime: what a closing consumer gives back
 * marked with {@link InboundRecord#markNotHandled()} keeps its delivery count, the rest counts, and
 * the pending list's counter agrees. Both modes, since a closing member gives its entries to a
 * different reserved consumer in each.
 */
@Timeout(60)
class RedisGiveBackTest {
  static final String PREFIX = RedisTestSupport.uniquePrefix("giveback");
  static final Duration AWAIT = Duration.ofSeconds(20);

  /**
   * Long enough that no idle reclaim or lapsed lease plays a part: only what close() hands back is
   * seen.
   */
  static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

  @AfterAll
  static void deleteKeys() {
    RedisTestSupport.deleteKeys(PREFIX);
  }

  @ParameterizedTest(name = "[{0}]")
  @ValueSource(strings = {"", "partitions=1"})
  void shouldKeepTheCountOfMarkedDeliveriesAcrossMembersClosingInTurnAndCountTheOthers(String extra)
      throws Exception {
    String topic = "gb-" + UUID.randomUUID().toString().substring(0, 8);
    boolean partitioned = !extra.isEmpty();
    try (Backend backend = open(extra)) {
      backend.ensureGroup(topic, "g", StartFrom.EARLIEST);
      List<Message> messages = List.of(message("m0"), message("m1"), message("m2"));
      backend.publish(topic, messages).get();
      // m1 stands for the delivery a handler started: it counts each time; m0 and m2 were only
      // queued.
      int[][] expected = {{1, 1, 1}, {1, 2, 1}, {1, 3, 1}};
      for (int round = 0; round < 3; round++) {
        BackendConsumer member = backend.subscribe(spec(topic, partitioned));
        List<InboundRecord> got = pollAtLeast(member, 3);
        if (partitioned) {
          assertThat(got)
              .extracting(r -> r.message().id())
              .as("round %d in publish order", round + 1)
              .containsExactly(messages.get(0).id(), messages.get(1).id(), messages.get(2).id());
        }
        for (int i = 0; i < 3; i++) {
          assertThat(countOf(got, messages.get(i)))
              .as("delivery count of m%d in round %d", i, round + 1)
              .isEqualTo(expected[round][i]);
        }
        recordOf(got, messages.get(0)).markNotHandled();
        recordOf(got, messages.get(2)).markNotHandled();
        member.close();
      }
      try (RedisClient raw = RedisTestSupport.client()) {
        String stream = PREFIX + topic + (partitioned ? ":p0" : "");
        List<?> pending = (List<?>) raw.sendCommand(Command.XPENDING, stream, "g", "-", "+", "10");
        List<Long> counters = new ArrayList<>();
        for (Object o : pending) {
          counters.add((Long) ((List<?>) o).get(3));
        }
        assertThat(counters)
            .as("the counters left for the next delivery, which reports counter + 1")
            .containsExactly(0L, 3L, 0L);
      }
      BackendConsumer last = backend.subscribe(spec(topic, partitioned));
      List<InboundRecord> got = pollAtLeast(last, 3);
      assertThat(got)
          .extracting(InboundRecord::deliveryCount)
          .as("after three members closed in turn")
          .containsExactlyInAnyOrder(1, 4, 1);
      got.forEach(InboundRecord::ack);
      last.close();
    }
  }

  @Test
  void shouldLeaveAMarkedEntryThatAnotherConsumerClaimedMeanwhileWhereItIsWithItsCount()
      throws Exception {
    String topic = "gb-" + UUID.randomUUID().toString().substring(0, 8);
    try (Backend backend = open("");
        RedisClient raw = RedisTestSupport.client()) {
      backend.ensureGroup(topic, "g", StartFrom.EARLIEST);
      backend.publish(topic, List.of(message("claimed"))).get();
      BackendConsumer member = backend.subscribe(spec(topic, false));
      InboundRecord record = pollAtLeast(member, 1).get(0);
      record.markNotHandled();
      String stream = PREFIX + topic;
      String entryId =
          new String(
              (byte[])
                  ((List<?>)
                          ((List<?>) raw.sendCommand(Command.XPENDING, stream, "g", "-", "+", "1"))
                              .get(0))
                      .get(0),
              StandardCharsets.UTF_8);
      // Another member reclaims it (as one taking this member for dead would) before this one
      // closes.
      raw.sendCommand(Command.XCLAIM, stream, "g", "other-member", "0", entryId);
      member.close();
      List<?> p =
          (List<?>)
              ((List<?>) raw.sendCommand(Command.XPENDING, stream, "g", "-", "+", "1")).get(0);
      assertThat(new String((byte[]) p.get(1), StandardCharsets.UTF_8))
          .as("owner")
          .isEqualTo("other-member");
      assertThat((Long) p.get(3)).as("delivery counter: both deliveries count").isEqualTo(2L);
      assertThat(raw.zcard(RedisSettings.delayed(stream, "g")))
          .as("nothing parked for it")
          .isZero();
    }
  }

  private static Backend open(String extra) {
    return new RedisBackendProvider()
        .open(PolybusOptions.parse(RedisTestSupport.uri(PREFIX, extra)));
  }

  private static ConsumerSpec spec(String topic, boolean partitioned) {
    return new ConsumerSpec(
        topic,
        "g",
        partitioned ? Ordering.KEY : Ordering.NONE,
        StartFrom.EARLIEST,
        ACK_TIMEOUT,
        100);
  }

  private static Message message(String payload) {
    return Message.builder().key("k").payload(payload).build();
  }

  private static List<InboundRecord> pollAtLeast(BackendConsumer consumer, int n)
      throws InterruptedException {
    List<InboundRecord> out = new ArrayList<>();
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (out.size() < n && System.nanoTime() - deadline < 0) {
      out.addAll(consumer.poll(100, Duration.ofMillis(200)));
    }
    assertThat(out).as("records polled").hasSize(n);
    return out;
  }

  private static InboundRecord recordOf(List<InboundRecord> records, Message m) {
    return records.stream().filter(r -> r.message().id().equals(m.id())).findFirst().orElseThrow();
  }

  private static int countOf(List<InboundRecord> records, Message m) {
    return recordOf(records, m).deliveryCount();
  }
}
