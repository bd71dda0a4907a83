package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Capabilities;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spi.PortableNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What every TCK area needs from the backend under test, and the helpers the areas share.
 *
 * <p>A backend author implements {@link #connect()} and {@link #declaredCapabilities()} once, in a
 * class that implements {@link PolybusTck}; see that type for the recipe. Each test opens the buses
 * it needs with {@link #connect()}, uses topic and group names made by {@link #uniqueName(String)},
 * and closes every bus before it ends, so tests are independent, may run against a long-lived
 * shared broker and may run in parallel. After each test, threads named after its topics and groups
 * must end (see {@link ThreadLeakCheck}).
 */
@ExtendWith(ThreadLeakCheck.class)
public interface TckContext {
  /**
   * Opens a new bus on the backend under test. Called once or more by every test, which closes each
   * bus it opened. Buses opened by one test must reach the same broker (the TCK never relies on two
   * buses seeing each other, but a backend may).
   */
  Polybus connect();

  /**
   * A new bus like {@link #connect()}'s, with {@code instrumentation} installed. By default opens
   * one bus to learn its options, closes it, and connects again with them; override when a bus
   * needs more than its options.
   */
  default Polybus connect(Instrumentation instrumentation) {
    PolybusOptions options;
    try (Polybus probe = connect()) {
      options = probe.options();
    }
    return Polybus.connect(options, instrumentation);
  }

  /**
   * The capabilities the backend's author declares. The TCK checks that the backend reports exactly
   * these, and uses them to decide which capability-gated cases run, so that a backend cannot
   * silently change its claims.
   */
  Capabilities declaredCapabilities();

  /** How long to wait; see {@link TckTimeouts}. */
  default TckTimeouts timeouts() {
    return TckTimeouts.defaults();
  }

  /**
   * A fresh portable name, {@code tck-<area>-<random>}, for a topic or group that no other test
   * (nor an earlier run against the same broker) uses. Threads named after it must end by the end
   * of the test.
   */
  default String uniqueName(String area) {
    String name =
        "tck-"
            + area
            + "-"
            + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    ThreadLeakCheck.register(this, name);
    return name;
  }

  /** Skips the calling test unless the declared capability is present, naming it. */
  default void assumeCapability(boolean present, String capability) {
    Assumptions.assumeTrue(present, "capability " + capability + " is absent");
  }

  /** Skips the calling test unless the backend declares {@link Capabilities#orderedByKey()}. */
  default void assumeOrderedByKey() {
    assumeCapability(declaredCapabilities().orderedByKey(), "orderedByKey");
  }

  /**
   * Subscribes {@code inbox} to {@code deadLetterTopic} as the standing {@link
   * Polybus#DEAD_LETTER_GROUP}, the way an operator consumes dead letters with the normal API.
   */
  default Subscription subscribeDeadLetters(Polybus bus, String deadLetterTopic, Inbox inbox) {
    return bus.subscribe(
        deadLetterTopic,
        Polybus.DEAD_LETTER_GROUP,
        inbox,
        SubscribeOptions.builder().ordering(Ordering.NONE).startFrom(StartFrom.EARLIEST).build());
  }

  /**
   * {@code <topic>.<group>.dlq} ({@link PortableNames#deadLetterTopic}, hashed when too long):
   * where dead letters go unless the subscription names another topic.
   */
  default String defaultDeadLetterTopic(String topic, String group) {
    return PortableNames.deadLetterTopic(topic, group);
  }

  /**
   * Retries that come fast and exactly: {@code maxAttempts} attempts, 10 ms apart, no jitter. For
   * cases that count attempts rather than time them.
   */
  default RetryPolicy fastRetries(int maxAttempts) {
    return RetryPolicy.builder()
        .maxAttempts(maxAttempts)
        .initialBackoff(Duration.ofMillis(10))
        .multiplier(1)
        .jitter(0)
        .build();
  }

  /** {@code n} messages with payloads {@code prefix-0 .. prefix-(n-1)}, no key, fresh ids. */
  default List<Message> textMessages(String prefix, int n) {
    List<Message> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(Message.of(prefix + "-" + i));
    }
    return out;
  }

  /** The ids of {@code messages}, in order. */
  default List<String> idsOf(Collection<Message> messages) {
    List<String> out = new ArrayList<>(messages.size());
    for (Message m : messages) {
      out.add(m.id());
    }
    return out;
  }

  /**
   * Sleeps for the {@linkplain TckTimeouts#quiet() quiet period}, in which nothing more may arrive.
   */
  default void quietPeriod() {
    Await.quietFor(timeouts().quiet());
  }

  /**
   * Proves that every message of {@code expectedIds} reached {@code inbox} and nothing else did,
   * each exactly once (at least once when the backend declares {@link
   * Capabilities#mayDuplicate()}): waits for all of them, watches for a {@linkplain
   * TckTimeouts#quiet() quiet period}, then checks.
   */
  default void assertDeliveredExactlyOnce(
      Inbox inbox, Collection<String> expectedIds, String what) {
    inbox.awaitIds(expectedIds, timeouts().await(), what);
    quietPeriod();
    assertOnlyAndOnce(inbox.ids(), expectedIds, what);
  }

  /**
   * Checks that {@code delivered} holds exactly the ids of {@code expectedIds}, each once (at least
   * once when the backend may duplicate), reporting a few offenders rather than every id.
   */
  default void assertOnlyAndOnce(
      List<String> delivered, Collection<String> expectedIds, String what) {
    Set<String> expected = new HashSet<>(expectedIds);
    Map<String, Integer> counts = new HashMap<>();
    for (String id : delivered) {
      counts.merge(id, 1, Integer::sum);
    }
    List<String> unexpected =
        counts.keySet().stream().filter(id -> !expected.contains(id)).limit(5).toList();
    assertThat(unexpected).as("%s: ids delivered that were never published there", what).isEmpty();
    List<String> missing =
        expected.stream().filter(id -> !counts.containsKey(id)).limit(5).toList();
    assertThat(missing).as("%s: published ids never delivered", what).isEmpty();
    if (!declaredCapabilities().mayDuplicate()) {
      List<String> duplicated =
          counts.entrySet().stream()
              .filter(e -> e.getValue() > 1)
              .map(e -> e.getKey() + " x" + e.getValue())
              .limit(5)
              .toList();
      long duplicates = counts.values().stream().filter(c -> c > 1).count();
      assertThat(duplicated)
          .as(
              "%s: %d of %d messages were delivered more than once, though the backend does not declare"
                  + " mayDuplicate",
              what, duplicates, expected.size())
          .isEmpty();
    }
  }
}
