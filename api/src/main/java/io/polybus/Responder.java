package io.polybus;

/**
 * Answers requests: subscribe with {@link Subscriber#respond}. Returning a message sends it as the
 * reply (to the requester's own reply topic, with the request's correlation id) and then acks the
 * request; throwing hands the request to the subscription's retry policy, and once the last attempt
 * failed, or at once for an exception the policy does not retry, sends the requester a failure
 * reply naming the exception's class and message (the requester's future fails with {@link
 * RemoteFailureException}), then dead-letters the request as usual.
 *
 * <p>Called by the subscription's handler threads, up to {@link SubscribeOptions#concurrency()} at
 * once, so it must be thread-safe.
 */
@FunctionalInterface
public interface Responder {
  /**
   * @return the reply, never null; its headers go with it, and the request's correlation id is
   *     added
   */
  Message respond(Delivery request) throws Exception;
}
