/**
 * The Amazon SQS backend, {@code sqs:}: each (topic, group) pair is a queue, a publish goes to
 * every group queue of its topic, an ack deletes the message, a retry makes it visible again after
 * the backoff, and a member's lease is the visibility timeout, extended while the member lives.
 * With {@code fifo=true} the queues are FIFO queues whose message group is the key, which gives
 * ordering by key.
 *
 * <p>Only {@link io.polybus.sqs.SqsBackendProvider} is public, for the {@link
 * java.util.ServiceLoader}; use it through {@code
 * Polybus.connect("sqs://127.0.0.1:9324?region=us-east-1")} or {@code
 * Polybus.connect("sqs:?region=eu-west-1")}. The message layout (so other SQS clients can produce
 * and read Polybus messages) is described in {@code SqsLayout} and in {@code docs/semantics.md}.
 */
package io.polybus.sqs;
