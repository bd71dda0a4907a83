package io.polybus.samples;

import io.polybus.Delivery;
import io.polybus.TypedHandler;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.LongAdder;

/**
 * One consuming service of the demo, with the bookkeeping the pipeline needs to prove what
 * happened: how many orders it handled (and whether any twice), how many deliveries were retries,
 * and whether one customer's orders ever arrived out of publish order.
 *
 * <p>Thread-safe: its {@link #handle} is called by the subscription's handler threads. The
 * per-customer order check relies on {@link io.polybus.Ordering#KEY} never running two deliveries
 * of one key at once; under {@link io.polybus.Ordering#NONE} it still counts, but the count is not
 * a fault.
 */
abstract class OrderConsumer implements TypedHandler<OrderCreated> {
  private final String group;
  private final String runId;
  private final long expected;
  private final CountDownLatch remaining;
  private final Set<String> handledOrders = ConcurrentHashMap.newKeySet();
  private final Map<String, Long> lastSequenceByCustomer = new ConcurrentHashMap<>();
  private final LongAdder processed = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder failedAttempts = new LongAdder();
  private final LongAdder outOfOrder = new LongAdder();
  private final LongAdder stale = new LongAdder();

  /**
   * @param group the consumer group, which is also the service's name
   * @param runId the run whose orders count; others (left over on a durable backend) are acked and
   *     ignored
   * @param expected how many distinct orders this service must handle for the run to be complete
   */
  OrderConsumer(String group, String runId, long expected) {
    this.group = group;
    this.runId = runId;
    this.expected = expected;
    this.remaining = new CountDownLatch((int) expected);
  }

  /** The service's business logic; throwing hands the delivery to the retry policy. */
  abstract void process(OrderCreated order) throws Exception;

  @Override
  public final void handle(OrderCreated order, Delivery delivery) throws Exception {
    if (!runId.equals(delivery.message().header(OrderPipeline.RUN_HEADER))) {
      stale.increment();
      return;
    }
    if (delivery.attempt() > 1) {
      retried.increment();
    }
    try {
      process(order);
    } catch (Exception | Error e) {
      failedAttempts.increment();
      throw e;
    }
    long sequence = Long.parseLong(delivery.message().header(OrderPipeline.SEQUENCE_HEADER));
    Long previous = lastSequenceByCustomer.put(order.customerId(), sequence);
    if (previous != null && previous > sequence) {
      outOfOrder.increment();
    }
    processed.increment();
    if (handledOrders.add(order.orderId())) {
      remaining.countDown();
    }
  }

  String group() {
    return group;
  }

  CountDownLatch remaining() {
    return remaining;
  }

  long stale() {
    return stale.sum();
  }

  OrderPipeline.ServiceStats stats() {
    return new OrderPipeline.ServiceStats(
        group,
        expected,
        processed.sum(),
        handledOrders.size(),
        retried.sum(),
        failedAttempts.sum(),
        outOfOrder.sum());
  }

  /** Sends the order confirmation (here: counts it). */
  static final class Email extends OrderConsumer {
    private final LongAdder sent = new LongAdder();

    Email(String runId, long expected) {
      super("email", runId, expected);
    }

    @Override
    void process(OrderCreated order) {
      sent.increment();
    }
  }

  /** Reserves stock; an order for a SKU outside the catalog fails every attempt. */
  static final class Inventory extends OrderConsumer {
    private final Map<String, LongAdder> reserved = new ConcurrentHashMap<>();

    Inventory(String runId, long expected, Set<String> catalog) {
      super("inventory", runId, expected);
      catalog.forEach(sku -> reserved.put(sku, new LongAdder()));
    }

    @Override
    void process(OrderCreated order) {
      LongAdder stock = reserved.get(order.sku());
      if (stock == null) {
        // A real service would list this exception as non-retryable in its RetryPolicy; the demo
        // retries it on
        // purpose, to show the attempt budget and the backoff before the order is dead-lettered.
        throw new UnknownSkuException(
            "unknown SKU '" + order.sku() + "' in order " + order.orderId());
      }
      stock.add(order.quantity());
    }
  }

  /** Aggregates revenue. */
  static final class Analytics extends OrderConsumer {
    private final LongAdder revenueCents = new LongAdder();

    Analytics(String runId, long expected) {
      super("analytics", runId, expected);
    }

    @Override
    void process(OrderCreated order) {
      revenueCents.add(order.priceCents());
    }
  }
}
