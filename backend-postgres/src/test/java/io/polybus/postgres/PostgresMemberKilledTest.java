package io.polybus.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Members in two processes: a child JVM leases deliveries and is killed with SIGKILL while its
 * handlers hold them; after its leases expire (its ackTimeout, 2 s) a member in this JVM takes them
 * over, each counted as a second attempt, and nothing is lost.
 */
@Timeout(120)
class PostgresMemberKilledTest {
  static final String SCHEMA = PgTestSupport.uniqueSchema("kill");

  @AfterAll
  static void dropSchema() {
    PgTestSupport.dropSchema(SCHEMA);
  }

  @Test
  void shouldHandTheLeasesOfAKilledMemberToAnotherProcessAfterTheyExpire() throws Exception {
    String uri = PgTestSupport.uri(SCHEMA, "pollInterval=100ms");
    try (Polybus bus = Polybus.connect(uri)) {
      bus.subscribe("jobs", "workers", d -> {}).close(); // the group exists from here on
      List<Message> sent = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        sent.add(Message.builder().key("k" + (i % 7)).payload("job-" + i).build());
      }
      bus.publishAllAndWait("jobs", sent);

      Path log = Path.of("target", "pg-child-member.log");
      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  PgChildMember.class.getName(),
                  uri,
                  "jobs",
                  "workers")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(new File(log.toString())))
              .start();
      try {
        Await.until(
            Duration.ofSeconds(30),
            "the child holding 20 leases (log: " + log + ")",
            () -> leased() >= 20);
      } finally {
        child.destroyForcibly().waitFor(); // SIGKILL: no close, no give-back
      }
      assertThat(child.exitValue()).as("killed, not exited").isNotZero();
      long heldByTheDead = leased();
      assertThat(heldByTheDead).isEqualTo(20);

      Inbox inbox = new Inbox();
      bus.subscribe(
          "jobs",
          "workers",
          inbox,
          SubscribeOptions.builder().ackTimeout(Duration.ofSeconds(2)).build());
      inbox.awaitIds(
          sent.stream().map(Message::id).toList(), Duration.ofSeconds(30), "every job, taken over");
      long retaken = inbox.received().stream().filter(r -> r.attempt() == 2).count();
      assertThat(retaken).as("deliveries the dead member had, counted twice").isEqualTo(20);
      Await.until(Duration.ofSeconds(10), "every delivery acked", () -> unsettled() == 0);
    }
  }

  private static long leased() {
    return count("SELECT count(*) FROM \"" + SCHEMA + "\".deliveries WHERE owner IS NOT NULL");
  }

  private static long unsettled() {
    return count("SELECT count(*) FROM \"" + SCHEMA + "\".deliveries");
  }

  private static long count(String sql) {
    try (Connection c = PgTestSupport.connect();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
