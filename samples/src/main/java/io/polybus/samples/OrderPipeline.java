package io.polybus.samples;

import io.polybus.Capabilities;
import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.JsonCodec;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.TypedHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The order pipeline, end to end on one bus: publish orders, let three services consume them,
 * dead-letter the poison order, read the dead letter back, ask for price quotes by request-reply,
 * and report what happened.
 *
 * <p>One order in every run names the SKU {@value #POISON_SKU}, which the inventory service does
 * not know. The inventory service fails on it {@link #RETRY_POLICY maxAttempts} times, after which
 * the runtime publishes it to {@value #DEAD_LETTER_TOPIC}. The email and analytics services handle
 * that order like any other.
 *
 * <p>Every message carries a run id header, and each service ignores (acks without counting) orders
 * of other runs, so a run on a durable backend is not confused by what an interrupted earlier run
 * left in the topics. Quote requests need no run id: a reply goes to the reply topic of the bus
 * that asked, so a request an earlier run left in {@code quotes} is answered to that run, not this
 * one.
 *
 * <p>Once the services are done, the order service asks the pricing service for quotes by
 * request-reply, one of them for the poison SKU, which pricing does not know either: that request
 * fails with a {@link io.polybus.RemoteFailureException} ({@link Summary#quotes()}).
 *
 * <p>{@link #run} blocks until every service handled every order it should and the dead letter
 * arrived, or until the timeout; it always closes the bus before returning. Run one at a time per
 * backend: two concurrent runs on one broker join the same groups, and each would ack, as stale,
 * orders the other is waiting for.
 */
public final class OrderPipeline {
  /** The topic orders are published to. */
  public static final String TOPIC = "orders";

  /** Where the inventory service's failed orders go: the default {@code <topic>.<group>.dlq}. */
  public static final String DEAD_LETTER_TOPIC = "orders.inventory.dlq";

  /**
   * The group the demo reads its dead letter with: a group of its own, so that the standing {@value
   * Polybus#DEAD_LETTER_GROUP} group keeps every dead letter for an operator to list and redrive
   * ({@code scripts/polybus dlq list orders.inventory.dlq}).
   */
  public static final String REPORT_GROUP = "dlq-report";

  /** The SKU of the poison order. */
  public static final String POISON_SKU = "SKU-DOES-NOT-EXIST";

  /** The consumers' retry policy: 3 attempts, 100 ms initial backoff doubling, 10 % jitter. */
  public static final RetryPolicy RETRY_POLICY =
      RetryPolicy.builder()
          .maxAttempts(3)
          .initialBackoff(Duration.ofMillis(100))
          .jitter(0.1)
          .build();

  /** How long {@link #run(String, int)} waits for the pipeline to complete. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  static final String RUN_HEADER = "demo-run";
  static final String SEQUENCE_HEADER = "demo-seq";

  private static final JsonCodec<OrderCreated> CODEC = JsonCodec.of(OrderCreated.class);
  private static final List<String> CATALOG =
      List.of(
          "SKU-0001",
          "SKU-0002",
          "SKU-0003",
          "SKU-0004",
          "SKU-0005",
          "SKU-0006",
          "SKU-0007",
          "SKU-0008");
  private static final int PUBLISH_BATCH = 250;
  private static final int CONCURRENCY = 4;

  /**
   * After completion, how long the pipeline stays open to catch a late duplicate or a second dead
   * letter.
   */
  private static final Duration QUIET_PERIOD = Duration.ofMillis(200);

  private static final Duration SUBSCRIPTION_DRAIN = Duration.ofSeconds(5);

  private final String uri;
  private final int orders;
  private final Duration timeout;
  private final Consumer<String> log;
  private final boolean traces;
  private final OrderEvents events;
  private volatile String poisonId;

  /**
   * How the order service gets its events onto the bus: {@link #DIRECT} publishes them (the
   * default); {@code io.polybus.samples.outbox.OutboxOrderEvents} writes each order row and its
   * event in one database transaction and lets a relay forward them ({@code --outbox}).
   */
  public interface OrderEvents extends AutoCloseable {
    /** Publishes one batch of events to {@code topic}, in order, and returns once they are safe. */
    void publish(Polybus bus, String topic, List<Message> batch);

    /**
     * Called once the services received everything (or the wait ran out), before the bus closes.
     */
    @Override
    default void close() {}
  }

  /** Publishes each batch and waits for the broker: waiting keeps the order across batches. */
  public static final OrderEvents DIRECT =
      (bus, topic, batch) -> bus.publishAllAndWait(topic, batch);

  private OrderPipeline(
      String uri,
      int orders,
      Duration timeout,
      Consumer<String> log,
      boolean traces,
      OrderEvents events) {
    this.traces = traces;
    this.events = Objects.requireNonNull(events, "events");
    this.uri = Objects.requireNonNull(uri, "uri");
    if (orders < 1) {
      throw new IllegalArgumentException("orders must be at least 1, was " + orders);
    }
    this.orders = orders;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    this.log = Objects.requireNonNull(log, "log");
  }

  /** Runs the pipeline silently with {@link #DEFAULT_TIMEOUT}. */
  public static Summary run(String uri, int orders) {
    return run(uri, orders, DEFAULT_TIMEOUT, line -> {});
  }

  /**
   * Runs the pipeline.
   *
   * @param uri the backend, for example {@code mem:}
   * @param orders how many orders to publish, at least 1 (one of them is the poison order)
   * @param timeout how long to wait for completion once the orders are published
   * @param log receives a few progress lines (never one per message)
   * @return what happened; {@link Summary#ok()} tells whether the pipeline completed as it should
   * @throws io.polybus.ConfigurationException if the URI names no available backend or is malformed
   * @throws io.polybus.PolybusException if the backend cannot be reached or a publish fails
   */
  public static Summary run(String uri, int orders, Duration timeout, Consumer<String> log) {
    return run(uri, orders, timeout, log, false);
  }

  /**
   * Runs the pipeline, with OpenTelemetry tracing when {@code traces} is set (then {@link
   * Summary#poisonTrace()} holds the poison order's trace).
   */
  public static Summary run(
      String uri, int orders, Duration timeout, Consumer<String> log, boolean traces) {
    return run(uri, orders, timeout, log, traces, DIRECT);
  }

  /** Runs the pipeline with the order service's events going through {@code events}. */
  public static Summary run(
      String uri,
      int orders,
      Duration timeout,
      Consumer<String> log,
      boolean traces,
      OrderEvents events) {
    return new OrderPipeline(uri, orders, timeout, log, traces, events).run();
  }

  private Summary run() {
    String runId = UUID.randomUUID().toString();
    int poisonIndex = orders / 2;
    List<OrderConsumer> services =
        List.of(
            new OrderConsumer.Email(runId, orders),
            new OrderConsumer.Inventory(runId, orders - 1, Set.copyOf(CATALOG)),
            new OrderConsumer.Analytics(runId, orders));
    DeadLetterReader deadLetters = new DeadLetterReader(runId);

    Capabilities capabilities;
    Ordering ordering;
    List<String> missing;
    long elapsed;
    List<Figures> figures = new ArrayList<>();
    List<String> poisonTrace;
    Quotes quotes;
    List<String> quoteProblems = new ArrayList<>();
    try (PipelineTelemetry telemetry = new PipelineTelemetry(traces)) {
      try (Polybus bus = Polybus.connect(PolybusOptions.parse(uri), telemetry.instrumentation());
          OrderEvents orderEvents = events) {
        capabilities = bus.capabilities();
        ordering = capabilities.orderedByKey() ? Ordering.KEY : Ordering.NONE;
        log.accept(
            "connected to "
                + bus.options().redacted()
                + " (ordering "
                + ordering
                + ", retry "
                + RETRY_POLICY.maxAttempts()
                + " attempts from "
                + RETRY_POLICY.initialBackoff().toMillis()
                + " ms, jitter "
                + RETRY_POLICY.jitter()
                + ")");

        SubscribeOptions options =
            SubscribeOptions.builder()
                .concurrency(CONCURRENCY)
                .ordering(ordering)
                .retryPolicy(RETRY_POLICY)
                .build();
        List<Subscription> subscriptions = new ArrayList<>();
        for (OrderConsumer service : services) {
          subscriptions.add(bus.subscribe(TOPIC, service.group(), CODEC, service, options));
        }
        // A dead-letter topic is read like any topic; from the earliest record, so that the letter
        // is read even when it is published before this group's members are placed.
        subscriptions.add(
            bus.subscribe(
                DEAD_LETTER_TOPIC,
                REPORT_GROUP,
                CODEC,
                deadLetters,
                SubscribeOptions.builder()
                    .ordering(ordering)
                    .startFrom(StartFrom.EARLIEST)
                    .retryPolicy(RetryPolicy.none())
                    .build()));

        long start = System.nanoTime();
        publish(bus, runId, poisonIndex);
        long publishedMillis = elapsedMillis(start);
        log.accept(
            "published "
                + orders
                + " orders to '"
                + TOPIC
                + "' in "
                + publishedMillis
                + " ms; waiting for the services (at most "
                + timeout.toMillis()
                + " ms)");

        missing = await(services, deadLetters, System.nanoTime() + timeout.toNanos());
        elapsed = elapsedMillis(start);
        if (missing.isEmpty()) {
          sleep(QUIET_PERIOD); // also lets the lag gauges refresh once more
        }
        for (OrderConsumer service : services) {
          figures.add(telemetry.figures(TOPIC, service.group()));
        }
        figures.add(telemetry.figures(DEAD_LETTER_TOPIC, REPORT_GROUP));
        // A bounded drain per subscription, so a stuck handler cannot hold the demo for the default
        // 30 s each.
        for (Subscription s : subscriptions) {
          s.close(SUBSCRIPTION_DRAIN);
        }
        // Only after a complete pipeline: on a backend that failed it, 21 requests would each wait
        // for their timeout.
        quotes = missing.isEmpty() ? PriceQuotes.ask(bus, CATALOG, quoteProblems) : Quotes.SKIPPED;
      }
      String poison = poisonId;
      poisonTrace = poison == null ? List.of() : telemetry.traceOf(poison);
    }
    // Counted after the bus closed: every handler call that happened is in the summary.
    return summarize(
        capabilities,
        ordering,
        services,
        deadLetters,
        missing,
        elapsed,
        figures,
        poisonTrace,
        quotes,
        quoteProblems);
  }

  private void publish(Polybus bus, String runId, int poisonIndex) {
    SplittableRandom random = new SplittableRandom(42);
    int customers = Math.max(1, Math.min(50, orders / 10));
    List<Message> batch = new ArrayList<>(PUBLISH_BATCH);
    for (int i = 0; i < orders; i++) {
      String customer = String.format("cust-%03d", random.nextInt(customers));
      String sku = i == poisonIndex ? POISON_SKU : CATALOG.get(random.nextInt(CATALOG.size()));
      int quantity = 1 + random.nextInt(3);
      OrderCreated order =
          new OrderCreated(
              String.format("ord-%06d", i),
              customer,
              sku,
              quantity,
              quantity * (500L + random.nextInt(9500)));
      Message m =
          Message.builder()
              .key(customer)
              .value(CODEC, order)
              .header(RUN_HEADER, runId)
              .header(SEQUENCE_HEADER, Integer.toString(i))
              .build();
      if (i == poisonIndex) {
        poisonId = m.id();
      }
      batch.add(m);
      if (batch.size() == PUBLISH_BATCH || i == orders - 1) {
        events.publish(bus, TOPIC, batch);
        batch.clear();
      }
    }
  }

  /**
   * Waits until done, the deadline or an interrupt; returns what is still missing, empty when
   * complete.
   */
  private static List<String> await(
      List<OrderConsumer> services, DeadLetterReader deadLetters, long deadline) {
    List<CountDownLatch> latches = new ArrayList<>();
    services.forEach(s -> latches.add(s.remaining()));
    latches.add(deadLetters.arrived);
    try {
      for (CountDownLatch latch : latches) {
        latch.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // report what arrived so far; the caller closes the bus
    }
    List<String> missing = new ArrayList<>();
    for (OrderConsumer s : services) {
      if (s.remaining().getCount() > 0) {
        ServiceStats st = s.stats();
        missing.add(s.group() + " handled " + st.distinct() + " of " + st.expected() + " orders");
      }
    }
    if (deadLetters.arrived.getCount() > 0) {
      missing.add("no dead letter arrived on '" + DEAD_LETTER_TOPIC + "'");
    }
    return missing;
  }

  private Summary summarize(
      Capabilities capabilities,
      Ordering ordering,
      List<OrderConsumer> services,
      DeadLetterReader deadLetters,
      List<String> missing,
      long elapsed,
      List<Figures> figures,
      List<String> poisonTrace,
      Quotes quotes,
      List<String> quoteProblems) {
    List<ServiceStats> stats = services.stream().map(OrderConsumer::stats).toList();
    List<String> problems = new ArrayList<>();
    if (!missing.isEmpty()) {
      problems.add("not complete after " + elapsed + " ms: " + String.join("; ", missing));
    }
    for (ServiceStats s : stats) {
      if (s.duplicates() > 0 && !capabilities.mayDuplicate()) {
        problems.add(s.name() + " handled " + s.duplicates() + " orders more than once");
      }
      if (s.outOfOrder() > 0 && ordering == Ordering.KEY) {
        problems.add(
            s.name()
                + " saw "
                + s.outOfOrder()
                + " orders before an earlier order of the same customer");
      }
    }
    List<DeadLetter> letters = List.copyOf(deadLetters.letters);
    if (letters.size() > 1) {
      problems.add("expected 1 dead letter, got " + letters.size());
    }
    for (DeadLetter d : letters) {
      if (!POISON_SKU.equals(d.sku())) {
        problems.add(
            "order " + d.orderId() + " (SKU " + d.sku() + ") was dead-lettered: " + d.reason());
      } else if (d.attempts() != RETRY_POLICY.maxAttempts()) {
        problems.add(
            "the poison order was dead-lettered after "
                + d.attempts()
                + " attempts, expected "
                + RETRY_POLICY.maxAttempts());
      }
    }
    problems.addAll(quoteProblems);
    long stale = services.stream().mapToLong(OrderConsumer::stale).sum() + deadLetters.stale.sum();
    return new Summary(
        uri,
        ordering,
        orders,
        stats,
        letters,
        stale,
        elapsed,
        List.copyOf(problems),
        List.copyOf(figures),
        List.copyOf(poisonTrace),
        quotes);
  }

  private static long elapsedMillis(long startNanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Reads the dead-letter topic in the {@value #REPORT_GROUP} group and keeps this run's letters.
   */
  private static final class DeadLetterReader implements TypedHandler<OrderCreated> {
    final String runId;
    final CountDownLatch arrived = new CountDownLatch(1);
    final List<DeadLetter> letters = new CopyOnWriteArrayList<>();
    final Map<String, Boolean> seenIds = new ConcurrentHashMap<>();
    final LongAdder stale = new LongAdder();

    DeadLetterReader(String runId) {
      this.runId = runId;
    }

    @Override
    public void handle(OrderCreated order, Delivery delivery) {
      Message m = delivery.message();
      if (!runId.equals(m.header(RUN_HEADER))) {
        stale.increment();
        return;
      }
      if (seenIds.putIfAbsent(m.id(), Boolean.TRUE) != null) {
        return; // a redelivery of a letter already read
      }
      String attempts = m.header(DeadLetterHeaders.ATTEMPTS);
      letters.add(
          new DeadLetter(
              m.id(),
              order.orderId(),
              order.sku(),
              m.header(DeadLetterHeaders.SOURCE_TOPIC),
              m.header(DeadLetterHeaders.GROUP),
              attempts == null ? -1 : Integer.parseInt(attempts),
              m.header(DeadLetterHeaders.REASON),
              m.header(DeadLetterHeaders.ERROR_CLASS)));
      arrived.countDown();
    }
  }

  /**
   * What one consuming service did in a run.
   *
   * @param name the service, which is also its consumer group
   * @param expected how many distinct orders it had to handle (every order, but the poison one for
   *     inventory)
   * @param processed successful handler calls
   * @param distinct distinct orders among them
   * @param retried deliveries that were a second or later attempt
   * @param failedAttempts handler calls that threw
   * @param outOfOrder orders handled after a later order of the same customer (a fault only under
   *     {@link Ordering#KEY})
   */
  public record ServiceStats(
      String name,
      long expected,
      long processed,
      long distinct,
      long retried,
      long failedAttempts,
      long outOfOrder) {
    /** Orders handled more than once. */
    public long duplicates() {
      return processed - distinct;
    }
  }

  /**
   * One consumer group's figures, read from the Micrometer meters of {@code polybus-micrometer}.
   *
   * @param group the consumer group
   * @param consumed delivery attempts handed to its handler
   * @param retried retries scheduled
   * @param deadLettered dead letters confirmed
   * @param p50Millis median processing time of acked attempts, NaN when none
   * @param p99Millis 99th percentile of the same
   * @param lag the lag gauge at the end, NaN when the backend reports no lag or the figure is stale
   */
  public record Figures(
      String group,
      long consumed,
      long retried,
      long deadLettered,
      double p50Millis,
      double p99Millis,
      double lag) {}

  /**
   * The request-reply step, run once the pipeline completed: the order service asks the pricing
   * service for quotes ({@link Polybus#request}, {@link Polybus#respond}), and for one of the
   * poison SKU, which pricing fails on.
   *
   * @param asked quotes asked for known SKUs, one at a time; 0 when the step did not run
   * @param answered correct quotes received
   * @param p50Millis the median round trip of those, NaN when none
   * @param remoteFailure the message of the {@link io.polybus.RemoteFailureException} the poison
   *     SKU's request failed with, or {@code null} when it did not fail so
   */
  public record Quotes(int asked, int answered, double p50Millis, String remoteFailure) {
    /** The step did not run: the pipeline did not complete. */
    public static final Quotes SKIPPED = new Quotes(0, 0, Double.NaN, null);
  }

  /**
   * A dead letter read back from {@value #DEAD_LETTER_TOPIC}, with the headers the runtime added.
   *
   * @param messageId the message id, the same as the original order message's
   * @param orderId the order, decoded from the unchanged payload
   * @param sku the order's SKU
   * @param sourceTopic {@link DeadLetterHeaders#SOURCE_TOPIC}
   * @param group {@link DeadLetterHeaders#GROUP}
   * @param attempts {@link DeadLetterHeaders#ATTEMPTS}, or -1 when absent
   * @param reason {@link DeadLetterHeaders#REASON}
   * @param errorClass {@link DeadLetterHeaders#ERROR_CLASS}, or {@code null}
   */
  public record DeadLetter(
      String messageId,
      String orderId,
      String sku,
      String sourceTopic,
      String group,
      int attempts,
      String reason,
      String errorClass) {}

  /**
   * The outcome of a run.
   *
   * @param uri the backend URI as given
   * @param ordering the ordering the services subscribed with
   * @param published orders published, the poison one included
   * @param services per service, in the order email, inventory, analytics
   * @param deadLetters this run's dead letters read back (exactly one when all went well)
   * @param staleIgnored messages of earlier runs that were acked and ignored
   * @param elapsedMillis from the first publish until everything arrived (or the timeout)
   * @param problems what went wrong, in words; empty when the pipeline completed as it should
   * @param figures per consumer group (the three services, then the dead-letter reader), as the
   *     metrics counted them
   * @param poisonTrace the poison order's trace, one line per span; empty unless traced
   * @param quotes the request-reply step's outcome
   */
  public record Summary(
      String uri,
      Ordering ordering,
      long published,
      List<ServiceStats> services,
      List<DeadLetter> deadLetters,
      long staleIgnored,
      long elapsedMillis,
      List<String> problems,
      List<Figures> figures,
      List<String> poisonTrace,
      Quotes quotes) {
    /**
     * True when every service handled every order it should, once, exactly the poison order was
     * dead-lettered, and the pricing service answered every quote and failed the poison SKU's.
     */
    public boolean ok() {
      return problems.isEmpty();
    }

    /** The stats of one service by name. */
    public ServiceStats service(String name) {
      return services.stream()
          .filter(s -> s.name().equals(name))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no service '" + name + "'"));
    }

    /** Redeliveries across all services. */
    public long retried() {
      return services.stream().mapToLong(ServiceStats::retried).sum();
    }

    /** Handler calls that threw, across all services. */
    public long failedAttempts() {
      return services.stream().mapToLong(ServiceStats::failedAttempts).sum();
    }

    /** How many of this run's orders were dead-lettered. */
    public long deadLettered() {
      return deadLetters.size();
    }
  }
}
