package io.polybus.internal;

import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Message;
import io.polybus.RequestHeaders;
import io.polybus.Responder;
import io.polybus.RetryPolicy;
import io.polybus.spi.Messages;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Not API. The handler of a responder's subscription: runs the {@link Responder}, sends its reply
 * (or, once the request failed for good, a failure reply) to the request's reply topic with its
 * correlation id, and only then lets the runtime ack the request. Stateless; thread-safe.
 *
 * <p>A reply is sent before the request is acked, so a responder dying in between makes the request
 * run again and the requester receive a second reply, which it drops (its request is answered). A
 * failure reply is sent for the attempt the runtime is about to dead-letter: the last one its retry
 * policy allows, or any attempt that threw a non-retryable exception.
 */
final class Responding implements Handler {
  private final DefaultPolybus bus;
  private final String topic;
  private final Responder responder;
  private final RetryPolicy policy;

  Responding(DefaultPolybus bus, String topic, Responder responder, RetryPolicy policy) {
    this.bus = bus;
    this.topic = topic;
    this.responder = responder;
    this.policy = policy;
  }

  @Override
  public void handle(Delivery d) throws Exception {
    Message request = d.message();
    String replyTo = request.header(RequestHeaders.REPLY_TO);
    String correlation = request.header(RequestHeaders.CORRELATION_ID);
    if (replyTo == null || correlation == null) {
      d.deadLetter(
          "not a request: a message on responder topic '"
              + topic
              + "' without the "
              + (replyTo == null ? RequestHeaders.REPLY_TO : RequestHeaders.CORRELATION_ID)
              + " header");
      return;
    }
    Message reply;
    try {
      reply = responder.respond(d);
      if (reply == null) {
        throw new NullPointerException("the responder returned no reply (null)");
      }
    } catch (Exception e) {
      if (!policy.isRetryable(e) || d.attempt() >= policy.maxAttempts()) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put(RequestHeaders.CORRELATION_ID, correlation);
        h.put(RequestHeaders.ERROR_CLASS, e.getClass().getName());
        h.put(RequestHeaders.ERROR_MESSAGE, e.getMessage() == null ? "" : truncate(e.getMessage()));
        try {
          bus.publishAndWait(replyTo, Messages.withHeaders(Message.of(""), h));
        } catch (RuntimeException sendFailed) {
          e.addSuppressed(sendFailed); // the requester times out instead; the request is dead
        }
      }
      throw e;
    }
    bus.publishAndWait(
        replyTo, Messages.withHeaders(reply, Map.of(RequestHeaders.CORRELATION_ID, correlation)));
  }

  /** Keeps a failure reply inside the portable metadata limit. */
  private static String truncate(String s) {
    return s.length() <= 1000 ? s : s.substring(0, 1000) + "…";
  }
}
