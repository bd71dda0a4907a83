package io.polybus.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RequestHeaders;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * A bus's reply topic on Redis: its keys carry a TTL while the bus lives (so a requester that dies
 * leaves nothing for long), every key of it is deleted at close, a late reply does not bring the
 * stream back, and a neighbour topic whose name starts with the reply topic's, with a group of the
 * same name, is left alone.
 */
@Timeout(30)
class RedisReplyTopicTest {
  static final String PREFIX = RedisTestSupport.uniquePrefix("reply");

  @AfterAll
  static void deleteKeys() {
    RedisTestSupport.deleteKeys(PREFIX);
  }

  /** Every key whose name starts with {@code start}, by the server's own SCAN. */
  private static List<String> keysStartingWith(RedisClient r, String start) {
    List<String> out = new ArrayList<>();
    String cursor = ScanParams.SCAN_POINTER_START;
    do {
      ScanResult<String> page = r.scan(cursor, new ScanParams().match(start + "*").count(1000));
      out.addAll(page.getResult());
      cursor = page.getCursor();
    } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    return out;
  }

  @ParameterizedTest(name = "[{index}] extra='{0}'")
  @ValueSource(strings = {"", "partitions=2"})
  void replyTopicKeysAreDeletedAtCloseAndANeighbourIsKept(String extra) throws Exception {
    String uri = RedisTestSupport.uri(PREFIX, extra);
    String service = "svc-" + System.nanoTime();
    try (RedisClient redis = RedisTestSupport.client();
        Polybus responder = Polybus.connect(uri)) {
      AtomicReference<String> replyTo = new AtomicReference<>();
      responder.respond(
          service,
          "g",
          d -> {
            replyTo.set(d.message().header(RequestHeaders.REPLY_TO));
            return Message.of("re");
          },
          SubscribeOptions.builder().ordering(Ordering.NONE).build());
      String reply;
      String neighbour;
      String replyKeys;
      try (Polybus requester = Polybus.connect(uri)) {
        Message m =
            requester
                .request(service, Message.of("q"), Duration.ofSeconds(10))
                .get(15, TimeUnit.SECONDS);
        assertThat(m.payloadAsString()).isEqualTo("re");
        reply = replyTo.get();
        replyKeys = PREFIX + reply;
        String firstStream = extra.isEmpty() ? replyKeys : replyKeys + ":p0";
        assertThat(redis.exists(firstStream)).as("reply stream while the bus lives").isTrue();
        assertThat(redis.pttl(firstStream))
            .as("the reply stream's TTL, refreshed while the bus lives")
            .isBetween(1L, RedisSettings.REPLY_TTL.toMillis());
        // A parked retry of the reply group, as a closing member would leave: must go too.
        String group =
            "requester."
                + reply.substring(io.polybus.spi.PortableNames.REPLY_TOPIC_PREFIX.length());
        // due far in the future, so the live reply consumer leaves it where it is
        redis.zadd(firstStream + ":delayed:" + group, 9e15, "0-1");

        // The neighbour: the reply topic's name as a prefix, the same group name, one entry.
        neighbour = reply + ".n";
        responder.subscribe(neighbour, "requester", d -> {}).close(Duration.ZERO);
        responder.publishAndWait(neighbour, Message.of("keep me"));
        assertThat(keysStartingWith(redis, replyKeys + ":"))
            .as("the reply topic's own keys before close")
            .isNotEmpty();
      }

      assertThat(keysStartingWith(redis, replyKeys + ":"))
          .as("keys of reply topic %s after its bus closed", reply)
          .isEmpty();
      assertThat(redis.exists(replyKeys)).as("the reply stream after close").isFalse();

      // A late reply (its requester is gone) must not recreate the stream.
      responder.publishAndWait(reply, Message.of("late"));
      assertThat(keysStartingWith(redis, replyKeys))
          .as("keys of the reply topic after a late reply")
          .allSatisfy(k -> assertThat(k).startsWith(PREFIX + neighbour));

      long entries = 0;
      for (String k : keysStartingWith(redis, PREFIX + neighbour)) {
        if (redis.type(k).equals("stream")) {
          entries += redis.xlen(k);
          assertThat(redis.xinfoGroups(k))
              .as("groups of neighbour stream %s", k)
              .extracting(g -> g.getName())
              .containsExactly("requester");
        }
      }
      assertThat(entries).as("entries of neighbour %s", neighbour).isEqualTo(1);
    }
  }
}
