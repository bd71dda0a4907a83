package io.polybus.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.tck.BackendDocs;
import io.polybus.tck.Inbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * docs/uris.md, docs/semantics.md and docs/backend-postgres.md say what the code does: the declared
 * parameters and capabilities, the statements the backend runs (quoted verbatim in the docs, with
 * the default schema), the shipped SQL script, and the interop example, which this test runs as
 * plain SQL and then consumes.
 */
class PostgresDocsTest {
  static final Path DOC = Path.of("..", "docs", "backend-postgres.md");
  static final String SCHEMA = PgTestSupport.uniqueSchema("docs");

  @AfterAll
  static void dropSchema() {
    PgTestSupport.dropSchema(SCHEMA);
  }

  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new PostgresBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("postgres", new PostgresTckTest().declaredCapabilities());
  }

  @Test
  void backendDocsQuoteTheStatementsTheCodeRuns() throws Exception {
    String doc = normalize(Files.readString(DOC));
    PgSettings defaults =
        PostgresBackendProvider.settings(io.polybus.PolybusOptions.parse("postgres://h/db"), false);
    for (String template :
        List.of(
            Sql.PUBLISH,
            Sql.SCHEDULE,
            Sql.MOVE_DUE,
            Sql.LEASE,
            Sql.LEASE_BY_KEY,
            Sql.ACK,
            Sql.RELEASE,
            Sql.EXTEND,
            Sql.LAG)) {
      String sql = normalize(Sql.bind(template, defaults));
      assertThat(doc).as("docs/backend-postgres.md quotes the statement").contains(sql);
    }
    for (int v = 1; v <= Sql.SCHEMA_VERSION; v++) {
      String script = normalize(Schema.script(defaults, v));
      assertThat(doc)
          .as("docs/backend-postgres.md quotes the schema script of version %d", v)
          .contains(script);
    }
  }

  @Test
  void rowsInsertedWithPlainSqlAsTheDocsShowAreConsumed() throws Exception {
    String doc = Files.readString(DOC);
    Matcher m =
        Pattern.compile("<!-- interop -->\\s*```sql\\n(.*?)```", Pattern.DOTALL).matcher(doc);
    assertThat(m.find()).as("an interop example marked <!-- interop --> in the docs").isTrue();
    String insert = m.group(1).replace("polybus.", "\"" + SCHEMA + "\".");
    try (Polybus bus = Polybus.connect(PgTestSupport.uri(SCHEMA, "pollInterval=100ms"))) {
      Inbox inbox = new Inbox();
      bus.subscribe("orders", "billing", inbox, SubscribeOptions.defaults());
      try (Connection c = PgTestSupport.connect();
          Statement st = c.createStatement()) {
        st.execute(insert);
      }
      inbox.awaitSize(2, Duration.ofSeconds(10), "the rows inserted with plain SQL");
      Message first = inbox.messages().get(0);
      Message second = inbox.messages().get(1);
      assertThat(first.id()).isEqualTo("order-7");
      assertThat(first.key()).isEqualTo("c-42");
      assertThat(first.payloadAsString()).isEqualTo("{\"total\": 12}");
      assertThat(first.headers())
          .containsExactly(
              java.util.Map.entry("source", "sql"),
              java.util.Map.entry("content-type", "application/json"));
      assertThat(second.id()).startsWith("pg-");
      assertThat(second.key()).isNull();
      assertThat(second.payloadAsString()).isEqualTo("hello");
      assertThat(second.headers()).isEmpty();
    }
  }

  private static String normalize(String s) {
    return s.replaceAll("\\s+", " ").trim();
  }
}
