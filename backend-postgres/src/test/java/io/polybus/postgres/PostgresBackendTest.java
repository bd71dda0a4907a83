package io.polybus.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.spi.Backend;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What the TCK does not cover: the DataSource route, retention, secrets, the wake-up, bad names.
 */
class PostgresBackendTest {
  static final String SCHEMA = PgTestSupport.uniqueSchema("backend");

  @AfterAll
  static void dropSchema() {
    PgTestSupport.dropSchema(SCHEMA);
    PgTestSupport.dropSchema(SCHEMA + "_ds");
    PgTestSupport.dropSchema(SCHEMA + "_v1");
  }

  /**
   * A schema a bus of version 1 created (its script only) is brought to version 2 by the next bus
   * that opens it, and delayed delivery then works there; the messages already in it stay.
   */
  @Test
  void shouldUpgradeAVersionOneSchemaAndThenHoldDelayedMessagesUntilDue() throws Exception {
    String schema = SCHEMA + "_v1";
    PgSettings settings =
        PostgresBackendProvider.settings(
            io.polybus.PolybusOptions.parse("postgres://h/db?schema=" + schema), false);
    try (java.sql.Connection c = PgTestSupport.connect();
        java.sql.Statement st = c.createStatement()) {
      st.execute(Schema.script(settings, 1));
    }
    try (Polybus bus = Polybus.connect(PgTestSupport.uri(schema, "pollInterval=50ms"))) {
      Inbox inbox = new Inbox();
      bus.subscribe("later", "g", inbox, SubscribeOptions.defaults());
      long start = System.nanoTime();
      Message delayed =
          Message.builder().payload("in a second").deliverAfter(Duration.ofSeconds(1)).build();
      assertThat(bus.publishAndWait("later", delayed).position()).isEmpty();
      inbox.awaitSize(1, Duration.ofSeconds(10), "the delayed message");
      assertThat(Duration.ofNanos(inbox.received().get(0).nanoTime() - start))
          .isGreaterThanOrEqualTo(Duration.ofMillis(998));
      try (java.sql.Connection c = PgTestSupport.connect();
          java.sql.Statement st = c.createStatement();
          java.sql.ResultSet rs =
              st.executeQuery("SELECT max(version) FROM \"" + schema + "\".schema_version")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(Sql.SCHEMA_VERSION);
      }
    }
  }

  @Test
  void shouldPublishAndConsumeThroughAnApplicationsDataSource() {
    CountingDataSource ds = new CountingDataSource(PgTestSupport.JDBC);
    try (Polybus bus = PostgresPolybus.connect(ds, "schema=" + SCHEMA + "_ds")) {
      Inbox inbox = new Inbox();
      bus.subscribe("ds-topic", "g", inbox, SubscribeOptions.defaults());
      Message m = Message.of("through a DataSource");
      bus.publishAndWait("ds-topic", m);
      inbox.awaitIds(List.of(m.id()), Duration.ofSeconds(10), "the message");
      assertThat(bus.health().up()).isTrue();
    }
    assertThat(ds.out.get()).as("connections still borrowed after close").isZero();
  }

  @Test
  void shouldRefuseAHandleThatNoDataSourceWasHandedOverUnder() {
    assertThatThrownBy(
            () ->
                Polybus.connect(
                    io.polybus.PolybusOptions.parse("postgres:")
                        .withNativeSetting(PostgresBackendProvider.HANDLE, "forged")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("PostgresPolybus.connect");
  }

  @Test
  void shouldNeverShowThePasswordWhenTheDatabaseCannotBeReached() {
    assertThatThrownBy(
            () ->
                Polybus.connect("postgres://postgres:s3cr3t-pw@127.0.0.1:1/test?connectTimeout=1s"))
        .isInstanceOf(BrokerUnavailableException.class)
        .hasMessageContaining("127.0.0.1:1")
        .satisfies(e -> assertThat(String.valueOf(e.getCause())).doesNotContain("s3cr3t-pw"))
        .message()
        .doesNotContain("s3cr3t-pw");
  }

  @Test
  void shouldPublishAllOrNothingAndFailOnlyTheCallWithTheRowPostgresRejects() throws Exception {
    try (Polybus bus = Polybus.connect(PgTestSupport.uri(SCHEMA, ""))) {
      Inbox inbox = new Inbox();
      bus.subscribe("batches", "g", inbox, SubscribeOptions.defaults());
      // A text column cannot hold U+0000: PostgreSQL rejects the row, and with it its whole batch.
      List<Message> bad =
          List.of(Message.of("fine"), Message.builder().key("nul\u0000key").payload("x").build());
      List<Message> good = List.of(Message.of("other caller 1"), Message.of("other caller 2"));
      var failing = bus.publishAll("batches", bad);
      var passing = bus.publishAll("batches", good); // likely in the same publish round
      assertThatThrownBy(failing::join)
          .hasCauseInstanceOf(io.polybus.NonTransientPolybusException.class)
          .hasMessageContaining("0x00");
      passing.join();
      inbox.awaitIds(
          good.stream().map(Message::id).toList(), Duration.ofSeconds(10), "the good batch");
      Thread.sleep(500);
      assertThat(inbox.ids()).as("nothing of the rejected batch").doesNotContain(bad.get(0).id());
    }
  }

  @Test
  void shouldServeThePostgresqlSchemeAsWellAndNamePgjdbcsUnknownNativeSettings() {
    try (Polybus bus =
        Polybus.connect("postgresql://postgres@" + PgTestSupport.HOST + "/test?schema=" + SCHEMA)) {
      assertThat(bus.health().up()).isTrue();
    }
    assertThatThrownBy(
            () ->
                Polybus.connect(
                    io.polybus.PolybusOptions.parse(PgTestSupport.uri(SCHEMA, ""))
                        .withNativeSetting("sslrootcertt", "/x")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.postgres.sslrootcertt");
  }

  @Test
  void shouldDeleteATopicsMessagesGroupsAndDeliveriesAndNothingElse() throws Exception {
    try (Backend backend =
        new PostgresBackendProvider()
            .open(io.polybus.PolybusOptions.parse(PgTestSupport.uri(SCHEMA, "")))) {
      backend.ensureGroup("doomed", "g", io.polybus.StartFrom.LATEST);
      backend.ensureGroup("kept-too", "g", io.polybus.StartFrom.LATEST);
      backend.publish("doomed", List.of(Message.of("a"), Message.of("b"))).join();
      backend.publish("kept-too", List.of(Message.of("c"))).join();
      assertThat(backend.deleteTopic("doomed")).isTrue();
      assertThat(backend.deleteTopic("doomed")).as("already gone: no error").isTrue();
      assertThat(count("messages", "doomed")).isZero();
      assertThat(count("groups", "doomed")).isZero();
      assertThat(count("messages", "kept-too")).isEqualTo(1);
      assertThat(count("groups", "kept-too")).isEqualTo(1);
      assertThat(backend.lag("kept-too", "g").total()).isEqualTo(1);
      assertThat(backend.lag("doomed", "g").total()).isZero();
    }
  }

  @Test
  void shouldRefuseASchemaThatIsNotAPlainIdentifier() {
    assertThatThrownBy(() -> Polybus.connect(PgTestSupport.uri("x\";drop", "")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("schema");
  }

  @Test
  void shouldWakeAnIdleMemberByNotificationFasterThanItsPollInterval() {
    try (Polybus bus = Polybus.connect(PgTestSupport.uri(SCHEMA, "pollInterval=1m"))) {
      Inbox inbox = new Inbox();
      bus.subscribe("wake", "g", inbox, SubscribeOptions.defaults());
      Message m = Message.of("wake up");
      long start = System.nanoTime();
      bus.publishAndWait("wake", m);
      inbox.awaitIds(List.of(m.id()), Duration.ofSeconds(10), "the message");
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("delivered by the NOTIFY, not the 1 minute poll")
          .isLessThan(Duration.ofSeconds(5));
    }
  }

  @Test
  void shouldDeleteMessagesAndTheirDeliveriesByAgeAndByCount() throws Exception {
    String uri =
        PgTestSupport.uri(SCHEMA, "retention=1s&maxMessages=5&retentionCheckInterval=100ms");
    try (Polybus bus = Polybus.connect(uri)) {
      bus.subscribe("kept", "g", d -> {}).close(); // a group, so deliveries rows exist
      List<Message> batch = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        batch.add(Message.of("m" + i));
      }
      bus.publishAllAndWait("kept", batch);
      Await.until(
          Duration.ofSeconds(10), "count retention: 5 kept", () -> count("messages", "kept") <= 5);
      Await.until(
          Duration.ofSeconds(10), "age retention: none kept", () -> count("messages", "kept") == 0);
      assertThat(countDeliveries()).as("delivery rows go with their messages").isZero();
    }
  }

  private static long count(String table, String topic) {
    try (Connection c = PgTestSupport.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM \"" + SCHEMA + "\"." + table + " WHERE topic = ?")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long countDeliveries() throws java.sql.SQLException {
    try (Connection c = PgTestSupport.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM \""
                    + SCHEMA
                    + "\".deliveries d JOIN \""
                    + SCHEMA
                    + "\".groups g USING (gid) WHERE g.topic = 'kept'");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
