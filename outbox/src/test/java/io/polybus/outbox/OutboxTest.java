package io.polybus.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.polybus.JsonCodec;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.TraceHeaders;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The outbox over {@code mem:} (the broker does not matter here): what a rollback and a commit
 * publish, what is kept of a message, what is refused at write time, parking, lag and metrics.
 */
@Timeout(60)
class OutboxTest {
  private static Pg pg;

  @BeforeAll
  static void database() {
    pg = new Pg();
  }

  @AfterAll
  static void drop() {
    pg.close();
  }

  record Order(String id, int amount) {}

  private static String memUri() {
    return "mem:outbox-" + UUID.randomUUID();
  }

  @Test
  void shouldDeliverNothingOfARolledBackTransactionAndExactlyOncePerGroupWhatWasCommitted()
      throws Exception {
    String table = pg.table("rollback_commit");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    try (Polybus bus = Polybus.connect(memUri());
        OutboxRelay relay = OutboxRelay.builder(pg.dataSource, bus).table(table).build().start()) {
      Inbox billing = new Inbox();
      Inbox email = new Inbox();
      bus.subscribe("orders", "billing", billing);
      bus.subscribe("orders", "email", email);

      Message rolledBack = Message.of("k1", "never");
      try (Connection c = pg.dataSource.getConnection()) {
        c.setAutoCommit(false);
        outbox.publish(c, "orders", rolledBack);
        c.rollback();
      }
      JsonCodec<Order> codec = JsonCodec.of(Order.class);
      Message committed =
          Message.builder()
              .key("k1")
              .value(codec, new Order("o-1", 42))
              .header(
                  TraceHeaders.TRACEPARENT,
                  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
              .header(TraceHeaders.TRACESTATE, "vendor=x")
              .header("tenant", "acme")
              .timestamp(Instant.parse("2026-01-02T03:04:05.678Z"))
              .build();
      List<Message> batch = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        batch.add(Message.of("k2", "batch-" + i));
      }
      pg.inTransaction(
          c -> {
            outbox.publish(c, "orders", committed);
            outbox.publishAll(c, "orders", batch);
          });

      billing.awaitSize(6, Duration.ofSeconds(10), "the committed messages in billing");
      email.awaitSize(6, Duration.ofSeconds(10), "the committed messages in email");
      Await.quietFor(Duration.ofMillis(500));
      for (Inbox inbox : List.of(billing, email)) {
        assertThat(inbox.size()).as("exactly once per group").isEqualTo(6);
        assertThat(inbox.distinctIds()).doesNotContain(rolledBack.id());
        Message got = inbox.of(committed.id()).get(0).message();
        assertThat(got.key()).isEqualTo("k1");
        assertThat(got.payload()).isEqualTo(committed.payload());
        assertThat(got.timestampMillis()).isEqualTo(committed.timestampMillis());
        assertThat(List.copyOf(got.headers().entrySet()))
            .as("every header, in insertion order, trace context and codec headers included")
            .containsExactlyElementsOf(List.copyOf(committed.headers().entrySet()));
        assertThat(codec.decode(got)).isEqualTo(new Order("o-1", 42));
        List<String> k2 = new ArrayList<>();
        inbox.messages().stream()
            .filter(m -> "k2".equals(m.key()))
            .forEach(m -> k2.add(m.payloadAsString()));
        assertThat(k2).containsExactly("batch-0", "batch-1", "batch-2", "batch-3", "batch-4");
      }
      Await.until(
          Duration.ofSeconds(5),
          "the outbox emptied",
          () -> pg.count("SELECT count(*) FROM " + table) == 0);
      assertThat(relay.lag().pending()).isZero();
    }
  }

  @Test
  void shouldRefuseBadInputAtWriteTimeWithNothingOfTheCallWritten() throws Exception {
    String table = pg.table("refused");
    Outbox outbox =
        Outbox.builder().table(table).maxPayloadBytes(1024).createTable(pg.dataSource).build();
    try (Connection c = pg.dataSource.getConnection()) {
      c.setAutoCommit(false);
      Message ok = Message.of("k", "fine");
      assertThatThrownBy(
              () -> outbox.publishAll(c, "orders", List.of(ok, Message.of("k", "x".repeat(2000)))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("payload of 2000 bytes")
          .hasMessageContaining("maxPayloadBytes 1024");
      assertThatThrownBy(() -> outbox.publish(c, "bad topic", ok))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad topic");
      Message fat =
          Message.builder().key("k").header("h", "v".repeat(Message.MAX_METADATA_BYTES)).build();
      assertThatThrownBy(() -> outbox.publish(c, "orders", fat))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("MAX_METADATA_BYTES");
      assertThatThrownBy(() -> outbox.publish(c, "orders", Message.of("a\0b", "x")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("U+0000");
      // The transaction is still usable: nothing was sent to the database.
      outbox.publish(c, "orders", ok);
      c.commit();
    }
    assertThat(pg.count("SELECT count(*) FROM " + table)).isEqualTo(1);
    try (Connection c = pg.dataSource.getConnection()) {
      c.setAutoCommit(true);
      assertThatThrownBy(() -> outbox.publish(c, "orders", Message.of("x")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("auto-commit");
    }
    assertThat(pg.count("SELECT count(*) FROM " + table)).isEqualTo(1);
  }

  @Test
  void shouldParkWhatTheBackendRefusesWithoutHoldingBackItsKeyAndShowItInLagAndMetrics()
      throws Exception {
    String table = pg.table("parking");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    try (Polybus bus = Polybus.connect(memUri() + "?maxPayload=1k");
        OutboxRelay relay =
            OutboxRelay.builder(pg.dataSource, bus)
                .table(table)
                .lagRefresh(Duration.ofMillis(100))
                .build()) {
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      OutboxMetrics.bind(relay, registry);
      Inbox inbox = new Inbox();
      bus.subscribe("orders", "g", inbox);
      Message before = Message.of("k", "before");
      Message tooLarge = Message.of("k", "x".repeat(2048));
      Message after = Message.of("k", "after");
      pg.inTransaction(c -> outbox.publishAll(c, "orders", List.of(before, tooLarge, after)));
      relay.start();

      inbox.awaitIds(List.of(before.id(), after.id()), Duration.ofSeconds(10), "the others");
      assertThat(inbox.ids()).containsExactly(before.id(), after.id());
      Await.until(
          Duration.ofSeconds(5),
          "the parked row in the lag",
          () -> {
            try {
              return relay.lag().parked() == 1;
            } catch (java.sql.SQLException e) {
              return false;
            }
          });
      OutboxLag lag = relay.lag();
      assertThat(lag.pending()).isZero();
      List<ParkedMessage> parked = relay.parked(10);
      assertThat(parked).hasSize(1);
      assertThat(parked.get(0).messageId()).isEqualTo(tooLarge.id());
      assertThat(parked.get(0).key()).isEqualTo("k");
      assertThat(parked.get(0).error()).contains("PayloadTooLargeException");
      Await.until(
          Duration.ofSeconds(5),
          "the parked gauge",
          () -> registry.get(OutboxMetrics.PARKED).gauge().value() == 1.0);
      assertThat(registry.get(OutboxMetrics.PENDING).gauge().value()).isZero();
      assertThat(registry.get(OutboxMetrics.FORWARDED).functionCounter().count()).isEqualTo(2);
      assertThat(registry.get(OutboxMetrics.PARKED_BY_RELAY).functionCounter().count())
          .isEqualTo(1);
      assertThat(registry.get(OutboxMetrics.STALE).gauge().value()).isZero();

      // Unparked, it is tried again (and parked again: the backend still refuses it).
      assertThat(relay.unpark(tooLarge.id())).isEqualTo(1);
      Await.until(Duration.ofSeconds(5), "parked a second time", () -> relay.parkedCount() == 2);
      assertThat(relay.unpark("no-such-id")).isZero();
    }
  }

  @Test
  void shouldPutWhatBeforeWriteAddsOnTheMessageAndRelayItUnchanged() throws Exception {
    String table = pg.table("before_write");
    String traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    // What an application with OpenTelemetry would do: inject Context.current() into the headers.
    Outbox outbox =
        Outbox.builder()
            .table(table)
            .beforeWrite(m -> m.newBuilder().header(TraceHeaders.TRACEPARENT, traceparent).build())
            .createTable(pg.dataSource)
            .build();
    try (Polybus bus = Polybus.connect(memUri());
        OutboxRelay relay = OutboxRelay.builder(pg.dataSource, bus).table(table).build().start()) {
      Inbox inbox = new Inbox();
      bus.subscribe("orders", "g", inbox);
      Message m = Message.builder().key("k").payload("p").header("a", "1").build();
      pg.inTransaction(c -> outbox.publish(c, "orders", m));
      inbox.awaitIds(List.of(m.id()), Duration.ofSeconds(10), "the message");
      Message got = inbox.messages().get(0);
      assertThat(got.header(TraceHeaders.TRACEPARENT)).isEqualTo(traceparent);
      assertThat(got.header("a")).isEqualTo("1");
      assertThat(got.id()).isEqualTo(m.id());
    }
  }

  @Test
  void shouldReportPendingRowsAndTheAgeOfTheOldestWhileNoRelayRuns() throws Exception {
    String table = pg.table("lag");
    Outbox outbox = Outbox.builder().table(table).createTable(pg.dataSource).build();
    try (Polybus bus = Polybus.connect(memUri());
        OutboxRelay relay = OutboxRelay.builder(pg.dataSource, bus).table(table).build()) {
      assertThat(relay.lag().pending()).isZero();
      assertThat(relay.lag().oldestPendingAge()).isEqualTo(Duration.ZERO);
      pg.inTransaction(c -> outbox.publish(c, "orders", Message.of("one")));
      Thread.sleep(300);
      pg.inTransaction(c -> outbox.publish(c, "orders", Message.of("two")));
      OutboxLag lag = relay.lag();
      assertThat(lag.pending()).isEqualTo(2);
      assertThat(lag.parked()).isZero();
      assertThat(lag.oldestPendingAge()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    }
  }

  @Test
  void shouldPrintASchemaScriptWithTheGivenTableName() {
    String script = Outbox.schemaScript("app.events_outbox");
    assertThat(script)
        .contains("CREATE TABLE IF NOT EXISTS app.events_outbox (")
        .contains("CREATE INDEX IF NOT EXISTS events_outbox_pending_idx ON app.events_outbox")
        .doesNotContain("polybus_outbox");
    assertThatThrownBy(() -> Outbox.schemaScript("x; DROP TABLE y"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("table must be");
  }
}
