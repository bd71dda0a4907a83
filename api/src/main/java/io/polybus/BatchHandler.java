package io.polybus;

import java.util.List;

/**
 * Handles a batch of deliveries in one call, for example to write them in one database transaction.
 * Subscribe with {@link Subscriber#subscribeBatch}.
 *
 * <p>Every element is a {@link Delivery} with its own settle, and every rule of single deliveries
 * holds for each element: its attempt count, retry and backoff, dead-lettering, the in-flight
 * bound. The handler may settle single elements (retry or dead-letter one, ack the rest); a failing
 * element is retried alone, and its neighbours are not delivered again. In {@link AckMode#AUTO},
 * returning acks every element the handler left unsettled; throwing fails every unsettled element
 * (each counts one attempt and follows the retry policy on its own). In {@link AckMode#MANUAL},
 * unsettled elements stay in flight until settled.
 *
 * <p>A batch holds between 1 and {@link SubscribeOptions#maxBatchSize()} deliveries, in the order
 * they were received; the runtime waits at most {@link SubscribeOptions#maxBatchWait()} for a batch
 * that is not full. With {@link Ordering#KEY} a batch holds at most one delivery of each key: the
 * next message of a key comes in a later batch, once its predecessor is settled (so a failed
 * element holds back the later messages of its key, and only those). The list is unmodifiable and
 * owned by the runtime; it may be kept for settling later (manual mode).
 *
 * <p>Called by the subscription's handler threads, concurrently up to {@link
 * SubscribeOptions#concurrency()} times (each call a different batch), so the handler must be
 * thread-safe.
 */
@FunctionalInterface
public interface BatchHandler {
  void handle(List<Delivery> batch) throws Exception;
}
