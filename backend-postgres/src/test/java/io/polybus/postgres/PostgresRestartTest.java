package io.polybus.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.BrokerUnavailableException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A PostgreSQL of the test's own stopped and started again under a bus, mid-stream: publishes fail
 * with {@link BrokerUnavailableException} while it is down, health says so, and afterwards every
 * confirmed message (before, during the consumer's backlog, and after) reaches the subscription,
 * which resumes by itself.
 */
@Timeout(120)
class PostgresRestartTest {
  @Test
  void shouldLoseNoConfirmedMessageAndResumeTheSubscriptionAfterADatabaseRestart()
      throws Exception {
    try (OwnCluster db = new OwnCluster()) {
      db.start();
      try (Polybus bus =
          Polybus.connect(db.uri("publishTimeout=2s&connectTimeout=2s&pollInterval=100ms"))) {
        // Each delivery takes 2 ms, so a backlog is still unconsumed when the database stops.
        Inbox inbox = new Inbox(d -> Thread.sleep(2));
        bus.subscribe(
            "orders",
            "g",
            inbox,
            SubscribeOptions.builder().ackTimeout(Duration.ofSeconds(3)).build());
        List<String> confirmed = new ArrayList<>();
        List<Message> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
          batch.add(Message.of("before-" + i));
        }
        bus.publishAllAndWait("orders", batch);
        batch.forEach(m -> confirmed.add(m.id()));

        db.stop();
        assertThat(inbox.distinctIds().size())
            .as("mid-stream: a backlog was left when the database stopped")
            .isLessThan(confirmed.size());
        try {
          bus.publish("orders", Message.of("while down")).get(10, TimeUnit.SECONDS);
          throw new AssertionError("a publish to a stopped PostgreSQL succeeded");
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(BrokerUnavailableException.class);
          assertThat(((PolybusException) e.getCause()).isTransient()).isTrue();
          assertThat(e.getCause().getMessage()).contains("127.0.0.1:" + db.port);
        }
        assertThat(bus.health().up()).as("health while the database is down").isFalse();

        db.start();
        Message after = Message.of("after");
        Await.until(
            Duration.ofSeconds(30),
            "a publish after the restart",
            () -> {
              try {
                bus.publishAndWait("orders", after);
                return true;
              } catch (PolybusException e) {
                return false;
              }
            });
        confirmed.add(after.id());
        inbox.awaitIds(confirmed, Duration.ofSeconds(30), "every confirmed message");
        assertThat(bus.health().up()).as("health after the restart").isTrue();
      }
    }
  }
}
