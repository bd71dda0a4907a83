package io.polybus;

import io.polybus.internal.Connector;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;

/**
 * A connection to one messaging backend: publish, subscribe, inspect.
 *
 * <p>Open one with {@link #connect(String)} and share it: a bus is thread-safe, holds the backend's
 * connections and threads, and should live as long as the application. Closing it closes every
 * subscription it opened (draining each with {@link Subscription#DEFAULT_DRAIN}) and then the
 * backend; afterwards every method but {@link #close()} throws {@link IllegalStateException}.
 * Closing twice is harmless.
 *
 * <h2>Choosing a backend</h2>
 *
 * The URI's scheme picks the backend among the {@link io.polybus.spi.BackendProvider providers}
 * found on the class (or module) path with {@link java.util.ServiceLoader}; there is no global
 * registry. See {@link PolybusOptions} for the URI grammar and {@code docs/uris.md} for every
 * backend's parameters.
 *
 * <h2>Portable names</h2>
 *
 * Topic and group names are 1 to 100 characters of {@code [A-Za-z0-9._-]} and do not start with
 * {@code .} or {@code -}. Every backend accepts every portable name (mapping it deterministically
 * where the broker's own rules differ), and Polybus rejects any other name with an {@link
 * IllegalArgumentException} before a backend sees it.
 */
public interface Polybus extends Publisher, Subscriber, AutoCloseable {
  /**
   * The group every dead-letter topic has from before its first dead letter; inspect and redrive
   * through it.
   */
  String DEAD_LETTER_GROUP = "dlq";

  /**
   * Opens a bus for a URI, for example {@code mem:} or {@code kafka://localhost:9092}.
   *
   * @throws ConfigurationException if the URI is malformed, no backend on the class path serves its
   *     scheme (the message lists those that are), or the backend rejects a parameter
   * @throws PolybusException if the backend could not be reached
   */
  static Polybus connect(String uri) {
    return Connector.connect(PolybusOptions.parse(uri));
  }

  /** Opens a bus for parsed options. */
  static Polybus connect(PolybusOptions options) {
    return Connector.connect(options);
  }

  /**
   * Opens a bus for a URI with instrumentation (tracing, metrics) installed; see {@link
   * Instrumentation}.
   */
  static Polybus connect(String uri, Instrumentation instrumentation) {
    return Connector.connect(
        PolybusOptions.parse(uri),
        java.util.Objects.requireNonNull(instrumentation, "instrumentation"));
  }

  /** Opens a bus for parsed options with instrumentation installed. */
  static Polybus connect(PolybusOptions options, Instrumentation instrumentation) {
    return Connector.connect(
        options, java.util.Objects.requireNonNull(instrumentation, "instrumentation"));
  }

  /** Opens a bus from configuration keys; see {@link PolybusOptions#fromMap(Map)}. */
  static Polybus connect(Map<String, ?> config) {
    return Connector.connect(PolybusOptions.fromMap(config));
  }

  /** Opens a bus from properties; see {@link PolybusOptions#fromMap(Map)}. */
  static Polybus connect(Properties properties) {
    return Connector.connect(PolybusOptions.fromProperties(properties));
  }

  /**
   * Sends {@code request} to {@code topic} and returns a future of its reply, from a responder
   * subscribed with {@link Subscriber#respond}. The reply comes back on a reply topic of this bus
   * alone ({@code polybus.replies.<id>}, created with its group before the first request leaves and
   * deleted when the bus closes, where the backend can delete topics), so replies are never read by
   * another requester. Any number of requests may be in flight from any threads.
   *
   * <p>The future fails with {@link PolybusTimeoutException} when no reply came within {@code
   * timeout} (a reply arriving later is dropped and counted by {@link
   * Instrumentation.Observer#replyDropped}), with {@link RemoteFailureException} when the responder
   * failed for good, with the publish's exception when the request could not be sent, and with
   * {@link IllegalStateException} when the bus closes first. Cancelling it forgets the request.
   *
   * @param timeout more than zero, at most 1 hour
   */
  CompletableFuture<Message> request(String topic, Message request, Duration timeout);

  /**
   * Like {@link #request(String, Message, Duration)}, encoding {@code request} with {@code
   * requestCodec} and decoding the reply with {@code replyCodec} (a reply that does not decode
   * fails the future with {@link CodecException}).
   */
  <Q, R> CompletableFuture<R> request(
      String topic, Q request, Codec<Q> requestCodec, Codec<R> replyCodec, Duration timeout);

  /** The options this bus was opened with (secrets redacted in its {@code toString}). */
  PolybusOptions options();

  /** What the backend guarantees. */
  Capabilities capabilities();

  /**
   * Actively checks the backend with a round trip. Never throws; a failure is a {@link
   * Health#down}.
   */
  Health health();

  /**
   * Moves dead letters back to the topic they came from: consumes the {@value #DEAD_LETTER_GROUP}
   * group of {@code deadLetterTopic}, publishes each record to its {@code polybus-dlq-source-topic}
   * with the same id, key, payload and original headers (the {@code polybus-dlq-*} headers
   * removed), and removes it from the dead-letter topic once the publish is confirmed. Stops when
   * no record arrived for {@code idle}.
   */
  RedriveResult redrive(String deadLetterTopic, Duration idle);

  /**
   * How far {@code group} is behind on {@code topic}: asks the broker now (a round trip; it does
   * not wait for messages). The figure is {@link Capabilities#lagAccuracy() exact or approximate}
   * as the backend declares. A group the broker has never seen lags by 0 on every backend: a new
   * group starts at the tail unless it asks for an earlier start when it subscribes.
   *
   * @throws UnsupportedOperationException if the backend's {@link Capabilities#lagAccuracy()} is
   *     {@link ConsumerLag.Accuracy#NONE}
   * @throws PolybusException if the broker could not be asked
   */
  ConsumerLag lag(String topic, String group);

  /** Closes every subscription of this bus, then the backend. Idempotent. */
  @Override
  void close();
}
