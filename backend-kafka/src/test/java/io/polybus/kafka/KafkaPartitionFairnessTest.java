package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A backlog spread over several partitions reaches the runtime interleaved, oldest first, not one
 * partition's fetched run after another: otherwise every handler thread works on one partition
 * while the others' messages, written as early, wait.
 */
class KafkaPartitionFairnessTest {
  private static final int PARTITIONS = 4;
  private static final int PER_PARTITION_ABOUT = 1000;
  private static final int FIRST = 400;

  @Test
  @Timeout(60)
  void shouldHandOutABacklogOfSeveralPartitionsInterleavedRatherThanOneFetchedRunAfterAnother()
      throws Exception {
    String topic = KafkaTestSupport.unique("fairness");
    KafkaBackend backend =
        new KafkaBackend(
            new KafkaSettings(
                PolybusOptions.parse(
                    "kafka://" + KafkaTestSupport.bootstrap() + "?partitions=" + PARTITIONS)));
    try {
      List<Message> backlog = new ArrayList<>();
      for (int i = 0; i < PARTITIONS * PER_PARTITION_ABOUT; i++) {
        backlog.add(Message.builder().key("key-" + i).payload(new byte[100]).build());
      }
      backend.publish(topic, backlog).get();
      // A run of one partition's fetch holds all its ~1000 records (about 150 KB, under the
      // client's max.partition.fetch.bytes), so handed out in fetch order the first 400 would
      // all be one partition's.
      BackendConsumer member =
          backend.subscribe(
              new ConsumerSpec(
                  topic, "g", Ordering.KEY, StartFrom.EARLIEST, Duration.ofSeconds(30), FIRST));
      try {
        // The runtime's room is full for a moment (it polls for nothing, to keep the membership):
        // meanwhile Kafka's fetches of every partition come back.
        for (int i = 0; i < 10; i++) {
          assertThat(member.poll(0, Duration.ZERO)).isEmpty();
          Thread.sleep(50);
        }
        List<InboundRecord> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (got.size() < FIRST && System.nanoTime() < deadline) {
          // As the runtime asks: for the room its handlers freed, a little at a time.
          got.addAll(member.poll(Math.min(50, FIRST - got.size()), Duration.ofMillis(500)));
        }
        assertThat(got).as("records of the backlog handed out").hasSize(FIRST);
        Map<String, Integer> perPartition = new TreeMap<>();
        for (InboundRecord r : got) {
          perPartition.merge(r.partition(), 1, Integer::sum);
          r.ack();
        }
        assertThat(perPartition)
            .as(
                "the first %d records by partition (an even share is %d)",
                FIRST, FIRST / PARTITIONS)
            .hasSize(PARTITIONS);
        assertThat(perPartition.values())
            .as("the first %d records by partition: %s", FIRST, perPartition)
            .allSatisfy(n -> assertThat(n).isGreaterThanOrEqualTo(FIRST / PARTITIONS / 2));
      } finally {
        member.close();
      }
    } finally {
      backend.close();
    }
  }
}
