package io.polybus.tck.selftest;

import io.polybus.BatchHandler;
import io.polybus.Capabilities;
import io.polybus.CircuitBreaker;
import io.polybus.Codec;
import io.polybus.ConsumerLag;
import io.polybus.Handler;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.PublishReceipt;
import io.polybus.RedriveResult;
import io.polybus.Responder;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.TypedHandler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Polybus} in front of a real one that breaks a rule the runtime owns, not the backend:
 * for TCK cases about consumer-side control (pause, circuit breaker), which no backend defect can
 * break. Everything else is passed through.
 */
final class FlawedRuntime implements Polybus {
  enum Flaw {
    /** {@link Subscription#pause()} only sets the flag {@code isPaused()} reports. */
    PAUSE_IGNORED,
    /** The circuit breaker asked for is swapped for one with a window it can never fill. */
    BREAKER_IGNORED,
    /** Publishing drops the priority header: high-priority messages queue behind normal ones. */
    PRIORITY_IGNORED
  }

  private Message published(Message m) {
    return flaw == Flaw.PRIORITY_IGNORED
        ? io.polybus.spi.Messages.withoutHeaders(m, List.of(Message.PRIORITY_HEADER))
        : m;
  }

  private List<Message> published(List<Message> messages) {
    return flaw == Flaw.PRIORITY_IGNORED
        ? messages.stream().map(this::published).toList()
        : messages;
  }

  private final Polybus inner;
  private final Flaw flaw;

  FlawedRuntime(Polybus inner, Flaw flaw) {
    this.inner = inner;
    this.flaw = flaw;
  }

  private SubscribeOptions broken(SubscribeOptions options) {
    CircuitBreaker b = options.circuitBreaker();
    if (flaw != Flaw.BREAKER_IGNORED || b == null) {
      return options;
    }
    CircuitBreaker.Builder never =
        CircuitBreaker.builder()
            .slidingWindow(10_000)
            .minimumCalls(10_000)
            .failureRateThreshold(b.failureRateThreshold())
            .openDuration(b.openDuration())
            .halfOpenTrials(b.halfOpenTrials());
    if (b.listener() != null) {
      never.listener(b.listener());
    }
    return options.newBuilder().circuitBreaker(never.build()).build();
  }

  private Subscription broken(Subscription s) {
    return flaw == Flaw.PAUSE_IGNORED ? new FlagOnlyPause(s) : s;
  }

  @Override
  public Subscription subscribe(String topic, String group, Handler handler) {
    return broken(inner.subscribe(topic, group, handler));
  }

  @Override
  public Subscription subscribe(
      String topic, String group, Handler handler, SubscribeOptions options) {
    return broken(inner.subscribe(topic, group, handler, broken(options)));
  }

  @Override
  public <T> Subscription subscribe(
      String topic,
      String group,
      Codec<T> codec,
      TypedHandler<T> handler,
      SubscribeOptions options) {
    return broken(inner.subscribe(topic, group, codec, handler, broken(options)));
  }

  @Override
  public Subscription subscribeBatch(
      String topic, String group, BatchHandler handler, SubscribeOptions options) {
    return broken(inner.subscribeBatch(topic, group, handler, broken(options)));
  }

  @Override
  public CompletableFuture<PublishReceipt> publish(String topic, Message message) {
    return inner.publish(topic, published(message));
  }

  @Override
  public CompletableFuture<List<PublishReceipt>> publishAll(String topic, List<Message> messages) {
    return inner.publishAll(topic, published(messages));
  }

  @Override
  public PublishReceipt publishAndWait(String topic, Message message) {
    return inner.publishAndWait(topic, published(message));
  }

  @Override
  public List<PublishReceipt> publishAllAndWait(String topic, List<Message> messages) {
    return inner.publishAllAndWait(topic, published(messages));
  }

  @Override
  public CompletableFuture<Message> request(String topic, Message request, Duration timeout) {
    return inner.request(topic, request, timeout);
  }

  @Override
  public <Q, R> CompletableFuture<R> request(
      String topic, Q request, Codec<Q> requestCodec, Codec<R> replyCodec, Duration timeout) {
    return inner.request(topic, request, requestCodec, replyCodec, timeout);
  }

  @Override
  public Subscription respond(
      String topic, String group, Responder responder, SubscribeOptions options) {
    return broken(inner.respond(topic, group, responder, broken(options)));
  }

  @Override
  public PolybusOptions options() {
    return inner.options();
  }

  @Override
  public Capabilities capabilities() {
    return inner.capabilities();
  }

  @Override
  public Health health() {
    return inner.health();
  }

  @Override
  public RedriveResult redrive(String deadLetterTopic, Duration idle) {
    return inner.redrive(deadLetterTopic, idle);
  }

  @Override
  public ConsumerLag lag(String topic, String group) {
    return inner.lag(topic, group);
  }

  @Override
  public void close() {
    inner.close();
  }

  /** A subscription whose pause is a flag and nothing else. */
  private static final class FlagOnlyPause implements Subscription {
    private final Subscription inner;
    private volatile boolean paused;

    FlagOnlyPause(Subscription inner) {
      this.inner = inner;
    }

    @Override
    public String topic() {
      return inner.topic();
    }

    @Override
    public String group() {
      return inner.group();
    }

    @Override
    public int inFlight() {
      return inner.inFlight();
    }

    @Override
    public boolean isActive() {
      return inner.isActive();
    }

    @Override
    public void pause() {
      paused = true;
    }

    @Override
    public void resume() {
      paused = false;
    }

    @Override
    public boolean isPaused() {
      return paused;
    }

    @Override
    public void close() {
      inner.close();
    }

    @Override
    public boolean close(Duration drainDeadline) {
      return inner.close(drainDeadline);
    }
  }
}
