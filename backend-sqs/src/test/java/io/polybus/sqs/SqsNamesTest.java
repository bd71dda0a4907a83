package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The queue-name mapping: valid SQS names, no two pairs on one queue, and the topic prefix finds
 * only its groups.
 */
class SqsNamesTest {
  private static final String LONG = "a".repeat(100);

  @Test
  void shouldEscapeUnderscoreAndPeriodSoThatTheSeparatorIsUnambiguous() {
    SqsNames n = new SqsNames("polybus-", false);
    assertThat(n.queue("orders", "email")).isEqualTo("polybus-orders__email");
    assertThat(n.queue("orders.eu", "billing_v2")).isEqualTo("polybus-orders_deu__billing_uv2");
    assertThat(new SqsNames("p-", true).queue("t", "g")).isEqualTo("p-t__g.fifo");
  }

  @Test
  void shouldMapEveryPairToADistinctValidQueueName() {
    List<String> names =
        List.of(
            "a",
            "a_",
            "a.",
            "a__",
            "a_b",
            "a.b",
            "a_u",
            "a_d",
            "_u",
            "u",
            "d_",
            "a-b",
            "a--",
            LONG,
            LONG.substring(1) + "b",
            "a".repeat(60) + "." + "b".repeat(39),
            "a".repeat(60) + "_" + "b".repeat(39),
            "x".repeat(33),
            "x".repeat(34),
            "x_".repeat(50));
    for (boolean fifo : new boolean[] {false, true}) {
      SqsNames n = new SqsNames("polybus-test-12345678-", fifo);
      Map<String, String> seen = new HashMap<>();
      for (String topic : names) {
        for (String group : names) {
          String q = n.queue(topic, group);
          assertThat(q.length()).as("length of %s", q).isLessThanOrEqualTo(80);
          assertThat(q).matches(fifo ? "[A-Za-z0-9_-]+\\.fifo" : "[A-Za-z0-9_-]+");
          String before = seen.put(q, topic + " / " + group);
          assertThat(before).as("queue %s of %s / %s", q, topic, group).isNull();
          assertThat(n.isGroupQueue(n.topicPrefix(topic), q))
              .as("%s found by its topic's prefix", q)
              .isTrue();
        }
      }
      // A topic's prefix never finds another topic's queues.
      for (String topic : names) {
        for (String other : names) {
          if (!topic.equals(other)) {
            assertThat(n.isGroupQueue(n.topicPrefix(topic), n.queue(other, "g")))
                .as("%s's prefix on a queue of %s", topic, other)
                .isFalse();
          }
        }
      }
    }
  }

  @Test
  void shouldTellFifoAndStandardQueuesApart() {
    SqsNames standard = new SqsNames("p-", false);
    SqsNames fifo = new SqsNames("p-", true);
    assertThat(standard.isGroupQueue(standard.topicPrefix("t"), fifo.queue("t", "g"))).isFalse();
    assertThat(fifo.isGroupQueue(fifo.topicPrefix("t"), standard.queue("t", "g"))).isFalse();
  }
}
