package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves {@link Ordering#KEY} (only on a backend that declares {@code orderedByKey}; skipped, by
 * name, otherwise): messages of one key are handled one at a time and in publish order across
 * several members with several handler threads each; a retried message holds back only the later
 * messages of its own key; and a message waiting for a long retry does not delay any other key.
 *
 * <p>Payloads are {@code <key>:<sequence>}; handlers check the sequence of each key as they run and
 * record every violation, which the test then reports. Each test opens its own bus and names.
 */
public interface OrderingTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldAcceptKeyOrderingExactlyWhenTheBackendDeclaresOrderedByKey() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("order-accept");
      SubscribeOptions keyed = SubscribeOptions.builder().ordering(Ordering.KEY).build();
      if (declaredCapabilities().orderedByKey()) {
        bus.subscribe(topic, uniqueName("g"), new Inbox(), keyed).close();
      } else {
        assertThatThrownBy(() -> bus.subscribe(topic, uniqueName("g"), new Inbox(), keyed))
            .as("subscribing with Ordering.KEY on a backend without orderedByKey")
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("orderedByKey");
      }
      bus.subscribe(
              topic,
              uniqueName("g"),
              new Inbox(),
              SubscribeOptions.builder().ordering(Ordering.NONE).build())
          .close();
    }
  }

  @Test
  @Timeout(120)
  default void shouldHandleEachKeyInPublishOrderAcrossMembersAndThreads() {
    assumeOrderedByKey();
    int keys = 50;
    int perKey = 40;
    boolean mayDuplicate = declaredCapabilities().mayDuplicate();
    try (Polybus bus = connect()) {
      String topic = uniqueName("order");
      String group = uniqueName("g");
      Map<String, Integer> lastSeq = new ConcurrentHashMap<>();
      Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
      List<Inbox> members = new ArrayList<>();
      SubscribeOptions opts =
          SubscribeOptions.builder().ordering(Ordering.KEY).concurrency(4).build();
      for (int i = 0; i < 3; i++) {
        Inbox member =
            new Inbox(
                d -> {
                  String key = d.message().key();
                  int seq = sequence(d.message());
                  AtomicInteger busy = running.computeIfAbsent(key, k -> new AtomicInteger());
                  if (busy.incrementAndGet() != 1) {
                    violations.add("key " + key + " handled concurrently (sequence " + seq + ")");
                  }
                  try {
                    Integer last = lastSeq.get(key);
                    int expected = last == null ? 0 : last + 1;
                    boolean ok = mayDuplicate ? seq <= expected : seq == expected;
                    if (!ok) {
                      violations.add("key " + key + ": sequence " + seq + " handled after " + last);
                    }
                    if (seq == expected) {
                      lastSeq.put(key, seq);
                    }
                    LockSupport.parkNanos(
                        ThreadLocalRandom.current().nextLong(TimeUnit.MILLISECONDS.toNanos(1)));
                  } finally {
                    busy.decrementAndGet();
                  }
                });
        bus.subscribe(topic, group, member, opts);
        members.add(member);
      }
      List<Message> messages = interleave(keys, perKey, new Random(11));
      for (int i = 0; i < messages.size(); i += 250) {
        bus.publishAllAndWait(topic, messages.subList(i, Math.min(i + 250, messages.size())));
      }
      Await.until(
          timeouts().await(),
          () ->
              "every key reached sequence "
                  + (perKey - 1)
                  + " (violations so far: "
                  + first(violations)
                  + ")",
          () ->
              lastSeq.size() == keys && lastSeq.values().stream().allMatch(s -> s == perKey - 1)
                  || !violations.isEmpty());
      quietPeriod();
      assertThat(violations)
          .as(
              "per-key order violations, %d keys x %d messages, 3 members x 4 threads",
              keys, perKey)
          .isEmpty();
      List<String> all = new ArrayList<>();
      for (Inbox m : members) {
        all.addAll(m.ids());
      }
      assertOnlyAndOnce(all, idsOf(messages), "2000 keyed messages over 3 members");
    }
  }

  @Test
  @Timeout(120)
  default void shouldKeepKeyOrderAcrossRetries() {
    assumeOrderedByKey();
    try (Polybus bus = connect()) {
      String topic = uniqueName("order-retry");
      String group = uniqueName("g");
      ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
      RetryPolicy policy =
          RetryPolicy.builder()
              .maxAttempts(5)
              .initialBackoff(Duration.ofMillis(100))
              .multiplier(1)
              .jitter(0)
              .build();
      SubscribeOptions opts =
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .concurrency(2)
              .retryPolicy(policy)
              .build();
      for (int i = 0; i < 2; i++) {
        bus.subscribe(
            topic,
            group,
            d -> {
              Message m = d.message();
              if (m.key().equals("A")) {
                events.add(m.payloadAsString() + "#" + d.attempt());
                if (m.payloadAsString().equals("A:3") && d.attempt() <= 2) {
                  throw new IllegalStateException("tck: A:3 fails twice");
                }
              }
            },
            opts);
      }
      List<Message> messages = new ArrayList<>();
      for (int seq = 0; seq < 10; seq++) {
        messages.add(Message.of("A", "A:" + seq));
      }
      for (int seq = 0; seq < 10; seq++) {
        messages.add(Message.of("B", "B:" + seq));
      }
      bus.publishAllAndWait(topic, messages);
      Await.until(
          timeouts().await(),
          () -> "A:9 was handled (events of key A: " + events + ")",
          () -> events.contains("A:9#1"));
      quietPeriod();
      assertThat(new ArrayList<>(events))
          .as("handling of key A, whose A:3 fails twice before it succeeds")
          .containsExactly(
              "A:0#1", "A:1#1", "A:2#1", "A:3#1", "A:3#2", "A:3#3", "A:4#1", "A:5#1", "A:6#1",
              "A:7#1", "A:8#1", "A:9#1");
    }
  }

  @Test
  @Timeout(120)
  default void shouldNotDelayOtherKeysWhileOneKeyWaitsForItsRetry() {
    assumeOrderedByKey();
    Duration backoff = timeouts().quiet().multipliedBy(3);
    if (backoff.compareTo(Duration.ofSeconds(1)) < 0) {
      backoff = Duration.ofSeconds(1);
    }
    RetryPolicy policy =
        RetryPolicy.builder()
            .maxAttempts(3)
            .initialBackoff(backoff)
            .multiplier(1)
            .maxBackoff(backoff)
            .jitter(0)
            .build();
    try (Polybus bus = connect()) {
      String topic = uniqueName("order-poison");
      String group = uniqueName("g");
      Map<String, Long> doneAt = new ConcurrentHashMap<>();
      ConcurrentLinkedQueue<Long> poisonAttempts = new ConcurrentLinkedQueue<>();
      // One member, one handler thread: if a waiting retry occupied anything, key B would have to
      // wait for it.
      bus.subscribe(
          topic,
          group,
          d -> {
            String payload = d.message().payloadAsString();
            if (payload.equals("A:poison")) {
              poisonAttempts.add(System.nanoTime());
              throw new IllegalStateException("tck: poison");
            }
            doneAt.put(payload, System.nanoTime());
          },
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .concurrency(1)
              .retryPolicy(policy)
              .build());
      Inbox dead = new Inbox();
      subscribeDeadLetters(bus, defaultDeadLetterTopic(topic, group), dead);
      List<Message> messages = new ArrayList<>();
      messages.add(Message.of("A", "A:poison"));
      for (int i = 0; i < 20; i++) {
        messages.add(Message.of("B", "B:" + i));
      }
      messages.add(Message.of("A", "A:after"));
      bus.publishAllAndWait(topic, messages);
      Await.until(
          timeouts().await().plus(backoff.multipliedBy(2)),
          () -> "the poison was dead-lettered and A:after handled (done: " + doneAt.keySet() + ")",
          () -> dead.size() > 0 && doneAt.containsKey("A:after"));
      List<Long> attempts = new ArrayList<>(poisonAttempts);
      assertThat(attempts).as("attempts of the poison message").hasSize(3);
      long lastAttempt = attempts.get(2);
      for (int i = 0; i < 20; i++) {
        Long b = doneAt.get("B:" + i);
        assertThat(b).as("B:%d handled", i).isNotNull();
        assertThat(b - lastAttempt)
            .as(
                "B:%d finished before the poison message of key A made its last attempt (%s backoff)",
                i, backoff)
            .isNegative();
      }
      assertThat(doneAt.get("A:after") - lastAttempt)
          .as("A:after handled after the poison message ahead of it on key A made its last attempt")
          .isPositive();
    }
  }

  /**
   * {@code perKey} messages for each of {@code keys} keys, {@code key-<k>:<sequence>}, in a random
   * interleaving that keeps each key's sequence and often puts several messages of one key in a
   * row, as bursts do.
   */
  private static List<Message> interleave(int keys, int perKey, Random random) {
    int[] next = new int[keys];
    List<Integer> open = new ArrayList<>();
    for (int k = 0; k < keys; k++) {
      open.add(k);
    }
    List<Message> out = new ArrayList<>(keys * perKey);
    int k = open.get(random.nextInt(open.size()));
    while (!open.isEmpty()) {
      if (next[k] == perKey || random.nextInt(3) == 0) {
        k = open.get(random.nextInt(open.size()));
        continue;
      }
      out.add(Message.of("key-" + k, "key-" + k + ":" + next[k]++));
      if (next[k] == perKey) {
        open.remove(Integer.valueOf(k));
      }
    }
    return out;
  }

  private static int sequence(Message m) {
    String p = m.payloadAsString();
    return Integer.parseInt(p.substring(p.indexOf(':') + 1));
  }

  private static String first(ConcurrentLinkedQueue<String> violations) {
    return violations.stream().limit(3).toList().toString();
  }
}
