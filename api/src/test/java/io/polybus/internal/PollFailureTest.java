package io.polybus.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Health;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusOptions;
import io.polybus.Subscription;
import io.polybus.TransientPolybusException;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A backend whose poll fails: the subscription must never look healthy while it cannot take
 * records. The {@link ScriptedBackend}'s polls throw what the test queues, one each, then hand out
 * nothing.
 */
@Timeout(30)
class PollFailureTest {
  @Test
  void aNonTransientPollFailureTakesHealthDownUntilAPollWorksAgain() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.pollFailures.add(
        new NonTransientPolybusException("group state file /x/g.state is corrupt"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      Subscription s = bus.subscribe("t", "g", d -> {});
      // The poll is counted when it starts, before it throws and the loop records the trouble.
      await(() -> !bus.health().up(), "health down after the failing poll");
      Health h = bus.health();
      assertThat(h.up()).as("health after a non-transient poll failure: %s", h).isFalse();
      assertThat(h.detail()).contains("'t'").contains("'g'").contains("/x/g.state is corrupt");
      assertThat(s.isActive()).as("still retrying: an operator may repair the cause").isTrue();

      await(() -> backend.polls.size() >= 2, "a poll that works");
      await(() -> bus.health().up(), "health up again");
    }
  }

  @Test
  void aTransientPollFailureLeavesHealthToTheBackend() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.pollFailures.add(new TransientPolybusException("broker restarting"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      bus.subscribe("t", "g", d -> {});
      await(() -> backend.polls.size() >= 1, "the failing poll");
      assertThat(bus.health().up()).isTrue();
    }
  }

  @Test
  void anErrorThrownByPollFailsTheSubscriptionForGoodAndVisibly() throws Exception {
    ScriptedBackend backend = new ScriptedBackend();
    backend.pollFailures.add(new InternalError("a fault occurred in an unsafe memory access"));
    try (DefaultPolybus bus = new DefaultPolybus(PolybusOptions.parse("scripted:"), backend)) {
      Subscription s = bus.subscribe("t", "g", d -> {});
      await(() -> !s.isActive(), "the subscription inactive");
      await(() -> backend.consumerClosed, "its consumer closed, giving its records back");
      assertThat(bus.health().up()).isFalse();
      assertThat(bus.health().detail()).contains("failed for good").contains("InternalError");
      s.close();
      assertThat(bus.health().up()).as("health once the failed subscription is closed").isTrue();
    }
  }

  private static void await(BooleanSupplier condition, String what) {
    ScriptedBackend.await(condition::getAsBoolean, ok -> ok, what);
  }
}
