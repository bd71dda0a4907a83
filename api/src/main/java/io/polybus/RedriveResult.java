package io.polybus;

/**
 * What a {@link Polybus#redrive redrive} moved.
 *
 * @param republished dead-letter records published back to their source topic and removed from the
 *     dead-letter topic
 * @param skipped records left in place because they carry no {@code polybus-dlq-source-topic}
 *     header
 */
public record RedriveResult(long republished, long skipped) {}
