package io.polybus;

/**
 * Subscribes handlers to topics. Thread-safe.
 *
 * <p>Every group of a topic receives every message published after the group was created; the
 * members of one group (subscriptions with the same topic and group, in this process or others)
 * compete, each message going to one of them.
 */
public interface Subscriber {
  /** Subscribes with {@link SubscribeOptions#defaults()}. */
  Subscription subscribe(String topic, String group, Handler handler);

  /**
   * Joins {@code group} on {@code topic} and starts handling deliveries. The group is created if it
   * does not exist yet (starting from {@link SubscribeOptions#startFrom()}) before this method
   * returns. Before the first dead letter is published, the standing group {@value
   * Polybus#DEAD_LETTER_GROUP} of the dead-letter topic is created too, so dead letters are kept
   * even on backends that keep nothing for absent groups.
   *
   * @throws IllegalArgumentException if the names are not portable names, or {@link Ordering#KEY}
   *     was asked of a backend without {@link Capabilities#orderedByKey()}
   */
  Subscription subscribe(String topic, String group, Handler handler, SubscribeOptions options);

  /**
   * Like {@link #subscribe(String, String, Handler, SubscribeOptions)}, decoding each payload with
   * {@code codec} before calling the handler. A payload that fails to decode is dead-lettered at
   * once with the decode error.
   */
  <T> Subscription subscribe(
      String topic,
      String group,
      Codec<T> codec,
      TypedHandler<T> handler,
      SubscribeOptions options);

  /**
   * Like {@link #subscribe(String, String, Handler, SubscribeOptions)}, handing deliveries to
   * {@code handler} in batches of up to {@link SubscribeOptions#maxBatchSize()}, waiting at most
   * {@link SubscribeOptions#maxBatchWait()} for a batch to fill. See {@link BatchHandler} for the
   * rules.
   */
  Subscription subscribeBatch(
      String topic, String group, BatchHandler handler, SubscribeOptions options);

  /**
   * Answers requests sent with {@link Polybus#request}: joins {@code group} on {@code topic} like
   * {@link #subscribe(String, String, Handler, SubscribeOptions)}, so responders of one group
   * compete and scale out, and sends each reply to the requester that asked. See {@link Responder}
   * for how failures reach the requester. A message on the topic that is not a request (no reply
   * topic or correlation id) is dead-lettered with a reason saying so.
   *
   * @throws IllegalArgumentException with {@link AckMode#MANUAL}: a reply settles its request
   */
  Subscription respond(String topic, String group, Responder responder, SubscribeOptions options);
}
