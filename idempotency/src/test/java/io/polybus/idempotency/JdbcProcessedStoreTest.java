package io.polybus.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store on its own, against the machine's PostgreSQL, in a schema of this class's own. */
class JdbcProcessedStoreTest {
  static final String SCHEMA =
      "idem_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  static TestDb ds;

  @BeforeAll
  static void createSchema() throws SQLException {
    ds = TestDb.local();
    exec("CREATE SCHEMA " + SCHEMA);
  }

  @AfterAll
  static void dropSchema() throws SQLException {
    exec("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
  }

  static void exec(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static long count(String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void shouldCreateItsTableOnFirstUseAndKeepOneMarkPerGroupAndId() throws Exception {
    JdbcProcessedStore store = JdbcProcessedStore.builder(ds).table(SCHEMA + ".marks").build();
    // Building again over the existing table changes nothing.
    JdbcProcessedStore again = JdbcProcessedStore.builder(ds).table(SCHEMA + ".marks").build();
    assertThat(store.isProcessed("g", "id-1")).isFalse();
    assertThat(store.markProcessed("g", "id-1")).isTrue();
    assertThat(again.markProcessed("g", "id-1"))
        .as("the same mark through another store")
        .isFalse();
    assertThat(again.isProcessed("g", "id-1")).isTrue();
    assertThat(store.isProcessed("g2", "id-1")).as("another group").isFalse();
    assertThat(count("SELECT count(*) FROM " + SCHEMA + ".marks")).isEqualTo(1);
    assertThat(
            count(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = '"
                    + SCHEMA
                    + "' AND indexname = 'marks_at_idx'"))
        .as("the processed_at index of the script")
        .isEqualTo(1);
  }

  @Test
  void shouldMarkEachIdOnceAmongConcurrentMarkers() throws Exception {
    JdbcProcessedStore store = JdbcProcessedStore.builder(ds).table(SCHEMA + ".race").build();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 80; i++) {
        String id = "id-" + (i % 10);
        Callable<Boolean> mark = () -> store.markProcessed("g", id);
        results.add(pool.submit(mark));
      }
      int fresh = 0;
      for (Future<Boolean> f : results) {
        fresh += f.get() ? 1 : 0;
      }
      assertThat(fresh).as("marks reported new, of 80 for 10 ids").isEqualTo(10);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void shouldPurgeTheMarksMadeBeforeTheCutoffAndKeepTheRest() throws Exception {
    JdbcProcessedStore store = JdbcProcessedStore.builder(ds).table(SCHEMA + ".purge").build();
    store.markProcessed("g", "old-1");
    store.markProcessed("g", "old-2");
    exec("UPDATE " + SCHEMA + ".purge SET processed_at = now() - interval '2 days'");
    store.markProcessed("g", "new");
    long purged = store.purgeMarkedBefore(Instant.now().minusSeconds(86_400));
    assertThat(purged).isEqualTo(2);
    assertThat(store.isProcessed("g", "old-1")).isFalse();
    assertThat(store.isProcessed("g", "new")).isTrue();
  }

  @Test
  void shouldShipASchemaScriptThatNamesTheConfiguredTable() {
    String script = JdbcProcessedStore.schemaScript("app.seen");
    assertThat(script)
        .contains("CREATE TABLE IF NOT EXISTS app.seen (")
        .contains("CREATE INDEX IF NOT EXISTS seen_at_idx ON app.seen (processed_at)")
        .doesNotContain("polybus_processed");
  }

  @Test
  void shouldRefuseATableNameThatIsNotAPlainIdentifier() {
    assertThatThrownBy(() -> JdbcProcessedStore.builder(ds).table("marks; DROP TABLE x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("marks; DROP TABLE x");
    assertThatThrownBy(() -> JdbcProcessedStore.builder(ds).table("a.b.c"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void shouldReportAnUnreachableDatabaseAsAStoreFailureNamingTheTable() {
    TestDb down = new TestDb("jdbc:postgresql://127.0.0.1:1/test?user=postgres&connectTimeout=2");
    assertThatThrownBy(() -> JdbcProcessedStore.builder(down).table(SCHEMA + ".never").build())
        .isInstanceOf(ProcessedStoreException.class)
        .hasMessageContaining(SCHEMA + ".never")
        .hasCauseInstanceOf(SQLException.class);
    JdbcProcessedStore store =
        JdbcProcessedStore.builder(down).table(SCHEMA + ".never").createTable(false).build();
    assertThatThrownBy(() -> store.markProcessed("g", "id-1"))
        .isInstanceOf(ProcessedStoreException.class)
        .hasMessageContaining("message id-1 for group g");
  }
}
