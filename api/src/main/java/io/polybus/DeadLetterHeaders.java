package io.polybus;

/**
 * Headers Polybus adds to a dead-letter record. The record otherwise keeps the original id, key,
 * payload, timestamp and headers, so it can be consumed, inspected and {@linkplain Polybus#redrive
 * redriven} with the normal API.
 */
public final class DeadLetterHeaders {
  /** The topic the message was consumed from. */
  public static final String SOURCE_TOPIC = "polybus-dlq-source-topic";

  /** The group that gave up on it. */
  public static final String GROUP = "polybus-dlq-group";

  /** How many deliveries were made, as a decimal number. */
  public static final String ATTEMPTS = "polybus-dlq-attempts";

  /** Why: the handler's own reason, or a description of the failure. */
  public static final String REASON = "polybus-dlq-reason";

  /** The class of the last exception, when a handler threw. */
  public static final String ERROR_CLASS = "polybus-dlq-error-class";

  /** The message of the last exception (at most 1000 characters), when a handler threw. */
  public static final String ERROR_MESSAGE = "polybus-dlq-error-message";

  /** When the message was dead-lettered, ISO-8601 in UTC. */
  public static final String FAILED_AT = "polybus-dlq-failed-at";

  /** Every header above; a redrive removes exactly these. */
  public static final java.util.List<String> ALL =
      java.util.List.of(
          SOURCE_TOPIC, GROUP, ATTEMPTS, REASON, ERROR_CLASS, ERROR_MESSAGE, FAILED_AT);

  private DeadLetterHeaders() {}
}
