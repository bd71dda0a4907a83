package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves where a new group starts: with {@link StartFrom#EARLIEST} (only on a backend that declares
 * {@code replay}; skipped, by name, otherwise) it sees messages published before it existed; with
 * {@link StartFrom#LATEST} (every backend) it sees only messages published after it was created.
 *
 * <p>Each test opens its own bus and names, so "before it existed" means before the first group of
 * a fresh topic.
 */
public interface ReplayTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldReplayMessagesPublishedBeforeAnEarliestGroupExisted() {
    assumeCapability(declaredCapabilities().replay(), "replay");
    try (Polybus bus = connect()) {
      String topic = uniqueName("replay");
      List<Message> old = textMessages("old", 10);
      bus.publishAllAndWait(topic, old);
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      inbox.awaitIds(
          idsOf(old), timeouts().await(), "10 messages published before the group existed");
      List<Message> fresh = textMessages("new", 5);
      bus.publishAllAndWait(topic, fresh);
      List<Message> all = new ArrayList<>(old);
      all.addAll(fresh);
      assertDeliveredExactlyOnce(
          inbox, idsOf(all), "10 old and 5 new messages to an EARLIEST group");
    }
  }

  @Test
  @Timeout(120)
  default void shouldStartALatestGroupAfterTheMessagesPublishedBeforeIt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("latest");
      // An earlier group keeps the topic and its messages alive on backends that keep nothing for
      // no group.
      Inbox earlier = new Inbox();
      bus.subscribe(topic, uniqueName("g"), earlier);
      List<Message> old = textMessages("old", 10);
      bus.publishAllAndWait(topic, old);
      earlier.awaitIds(idsOf(old), timeouts().await(), "the old messages at the earlier group");
      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder().startFrom(StartFrom.LATEST).build());
      List<Message> fresh = textMessages("new", 10);
      bus.publishAllAndWait(topic, fresh);
      assertDeliveredExactlyOnce(
          inbox, idsOf(fresh), "messages published after a LATEST group was created");
      assertThat(inbox.distinctIds())
          .as("old messages seen by the LATEST group")
          .doesNotContainAnyElementsOf(idsOf(old));
    }
  }

  /**
   * With {@code replayFromTimestamp}: a new group started at an instant gets exactly the messages
   * stamped at or after it. Without: subscribing so is refused, naming the capability (never
   * silently started elsewhere).
   */
  @Test
  @Timeout(120)
  default void shouldStartATimestampGroupAtTheFirstMessageAtOrAfterTheInstantOrRefuseIt()
      throws InterruptedException {
    try (Polybus bus = connect()) {
      String topic = uniqueName("since");
      if (!declaredCapabilities().replayFromTimestamp()) {
        SubscribeOptions since =
            SubscribeOptions.builder().startFrom(StartFrom.timestamp(Instant.now())).build();
        assertThatThrownBy(() -> bus.subscribe(topic, uniqueName("g"), new Inbox(), since))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("replayFromTimestamp");
        return;
      }
      // An earlier group keeps the messages on backends that keep nothing for no group.
      Inbox earlier = new Inbox();
      bus.subscribe(topic, uniqueName("g"), earlier);
      List<Message> old = textMessages("old", 20);
      bus.publishAllAndWait(topic, old);
      Thread.sleep(30);
      Instant mark = Instant.now();
      Thread.sleep(30);
      List<Message> fresh = textMessages("new", 20); // stamped now, after the mark
      bus.publishAllAndWait(topic, fresh);
      earlier.awaitIds(idsOf(fresh), timeouts().await(), "every message at the earlier group");

      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder().startFrom(StartFrom.timestamp(mark)).build());
      inbox.awaitIds(
          idsOf(fresh), timeouts().await(), "the messages stamped at or after the instant");
      List<Message> later = textMessages("later", 5);
      bus.publishAllAndWait(topic, later);
      List<Message> expected = new ArrayList<>(fresh);
      expected.addAll(later);
      assertDeliveredExactlyOnce(
          inbox, idsOf(expected), "messages from the instant on, then new ones");
      assertThat(inbox.distinctIds())
          .as("messages stamped before the instant")
          .doesNotContainAnyElementsOf(idsOf(old));
    }
  }

  /**
   * With {@code replayFromOffset}: a new group started at the offset of the 11th of 30 messages of
   * one key (so one partition; the topic has no other messages) gets exactly messages 11 to 30,
   * then new ones. Without: refused, naming the capability.
   */
  @Test
  @Timeout(120)
  default void shouldStartAnOffsetGroupAtThatOffsetOrRefuseIt() {
    try (Polybus bus = connect()) {
      String topic = uniqueName("from");
      if (!declaredCapabilities().replayFromOffset()) {
        SubscribeOptions from = SubscribeOptions.builder().startFrom(StartFrom.offset(0)).build();
        assertThatThrownBy(() -> bus.subscribe(topic, uniqueName("g"), new Inbox(), from))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("replayFromOffset");
        return;
      }
      Inbox earlier = new Inbox(); // keeps the messages on backends that keep nothing for no group
      bus.subscribe(topic, uniqueName("g"), earlier);
      List<Message> all = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        all.add(Message.builder().key("one-key").payload("m" + i).build());
      }
      List<PublishReceipt> receipts = bus.publishAllAndWait(topic, all);
      earlier.awaitIds(idsOf(all), timeouts().await(), "every message at the earlier group");
      String position = receipts.get(10).position();
      long offset = Long.parseLong(position.substring(position.indexOf('@') + 1));

      Inbox inbox = new Inbox();
      bus.subscribe(
          topic,
          uniqueName("g"),
          inbox,
          SubscribeOptions.builder().startFrom(StartFrom.offset(offset)).build());
      List<Message> expected = new ArrayList<>(all.subList(10, 30));
      inbox.awaitIds(
          idsOf(expected), timeouts().await(), "messages from the offset of the 11th on");
      List<Message> later = textMessages("later", 5);
      bus.publishAllAndWait(topic, later);
      expected.addAll(later);
      assertDeliveredExactlyOnce(
          inbox, idsOf(expected), "messages from the offset on, then new ones");
    }
  }
}
