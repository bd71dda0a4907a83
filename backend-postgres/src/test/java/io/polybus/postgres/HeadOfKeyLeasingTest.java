package io.polybus.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The hard case of ordering by key, below the runtime: two members of one group lease from the same
 * rows, and a key's rows go to one member at a time, in order, while other keys flow to both.
 */
class HeadOfKeyLeasingTest {
  static final String SCHEMA = PgTestSupport.uniqueSchema("headofkey");

  @AfterAll
  static void dropSchema() {
    PgTestSupport.dropSchema(SCHEMA);
  }

  private static ConsumerSpec spec() {
    return new ConsumerSpec(
        "orders", "g", Ordering.KEY, StartFrom.LATEST, Duration.ofSeconds(30), 1024);
  }

  private static List<String> payloads(List<InboundRecord> records) {
    List<String> out = new ArrayList<>();
    records.forEach(r -> out.add(r.message().payloadAsString()));
    return out;
  }

  @Test
  void shouldLeaseAKeysRowsToOneMemberAtATimeInOrderWhileOtherKeysGoToTheOther() throws Exception {
    try (Backend backend =
        new PostgresBackendProvider()
            .open(PolybusOptions.parse(PgTestSupport.uri(SCHEMA, "pollInterval=10ms")))) {
      backend.ensureGroup("orders", "g", StartFrom.LATEST);
      BackendConsumer a = backend.subscribe(spec());
      BackendConsumer b = backend.subscribe(spec());
      backend
          .publish(
              "orders",
              List.of(
                  Message.builder().key("k").payload("k1").build(),
                  Message.builder().key("k").payload("k2").build(),
                  Message.builder().key("other").payload("o1").build()))
          .join();

      // a takes the head of k; k2 is behind it at the same member, so it may come along.
      List<InboundRecord> atA = a.poll(1, Duration.ofSeconds(5));
      assertThat(payloads(atA)).containsExactly("k1");

      // b may not take k2 while k1 is unsettled at a; the other key is free.
      List<InboundRecord> atB = b.poll(10, Duration.ofMillis(500));
      assertThat(payloads(atB)).containsExactly("o1");
      assertThat(b.poll(10, Duration.ofMillis(300))).as("k2 while k1 is at a").isEmpty();

      // Once a acks k1 (and the ack is flushed), k2 becomes the head and b may take it.
      atA.get(0).ack();
      List<InboundRecord> next = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (next.isEmpty() && System.nanoTime() < deadline) {
        next = b.poll(10, Duration.ofMillis(200));
      }
      assertThat(payloads(next)).containsExactly("k2");
      assertThat(next.get(0).deliveryCount()).isEqualTo(1);
      atB.get(0).ack();
      next.get(0).ack();
      a.close();
      b.close();
    }
  }

  @Test
  void shouldGiveAClosingMembersRowsBackUncountedWhenNoHandlerSawThem() throws Exception {
    try (Backend backend =
        new PostgresBackendProvider()
            .open(PolybusOptions.parse(PgTestSupport.uri(SCHEMA, "pollInterval=10ms")))) {
      ConsumerSpec spec =
          new ConsumerSpec(
              "giveback", "g", Ordering.NONE, StartFrom.LATEST, Duration.ofSeconds(30), 1024);
      backend.ensureGroup("giveback", "g", StartFrom.LATEST);
      backend.publish("giveback", List.of(Message.of("seen"), Message.of("unseen"))).join();
      BackendConsumer first = backend.subscribe(spec);
      List<InboundRecord> got = first.poll(2, Duration.ofSeconds(5));
      assertThat(payloads(got)).containsExactly("seen", "unseen");
      got.get(1).markNotHandled();
      first.close();

      BackendConsumer second = backend.subscribe(spec);
      List<InboundRecord> again = second.poll(2, Duration.ofSeconds(5));
      assertThat(payloads(again)).containsExactly("seen", "unseen");
      assertThat(again.get(0).deliveryCount()).as("a handler saw it: counted").isEqualTo(2);
      assertThat(again.get(1).deliveryCount()).as("no handler saw it: not counted").isEqualTo(1);
      second.close();
    }
  }
}
