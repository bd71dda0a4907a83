package io.polybus.samples.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.samples.OrderPipeline;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo's {@code --outbox} mode against the machine's PostgreSQL, in a schema of its own
 * (dropped afterwards) and over {@code mem:}: every order row is committed, every event arrives
 * through the relay, the poison order still ends up dead-lettered, and the outbox ends empty.
 */
@Timeout(60)
class OutboxOrderEventsTest {
  private final String schema =
      "demo_outbox_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  @AfterEach
  void drop() throws Exception {
    try (Connection c = DriverManager.getConnection(OutboxOrderEvents.DEFAULT_JDBC_URL);
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  @Test
  void shouldRunThePipelineWithEachOrderRowAndItsEventInOneTransaction() throws Exception {
    List<String> log = new ArrayList<>();
    OrderPipeline.Summary summary =
        OrderPipeline.run(
            "mem:demo-outbox-" + UUID.randomUUID(),
            60,
            Duration.ofSeconds(30),
            log::add,
            false,
            new OutboxOrderEvents(OutboxOrderEvents.DEFAULT_JDBC_URL, schema, log::add));

    assertThat(summary.ok()).as(summary.problems().toString()).isTrue();
    assertThat(summary.published()).isEqualTo(60);
    assertThat(summary.deadLettered()).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM " + schema + ".orders")).isEqualTo(60);
    assertThat(count("SELECT count(*) FROM " + schema + ".outbox")).isZero();
    assertThat(log).anyMatch(l -> l.startsWith("outbox: 60 order rows committed"));
  }

  private long count(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(OutboxOrderEvents.DEFAULT_JDBC_URL);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
