package io.polybus.samples;

import io.polybus.JsonCodec;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PolybusTimeoutException;
import io.polybus.RemoteFailureException;
import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The demo's request-reply step: the order service asks the pricing service for quotes with {@link
 * Polybus#request}, and the pricing service answers them with {@link Polybus#respond}. One request
 * names the poison SKU, which pricing does not know either: it throws, and the order service's
 * request fails at once with a {@link RemoteFailureException} naming the remote exception, not with
 * a timeout. The runtime then dead-letters that request to {@code quotes.pricing.dlq}, as it does
 * any message whose handler failed for good.
 *
 * <p>Requests go one at a time, so each round trip is timed alone. Used by one thread, once per
 * run.
 */
final class PriceQuotes {
  /** The topic pricing answers on. */
  static final String TOPIC = "quotes";

  /** The pricing service's group. */
  static final String GROUP = "pricing";

  /** Quotes asked for a known SKU; one more asks for the poison SKU. */
  static final int REQUESTS = 20;

  /** Each request's timeout: generous, since a request normally takes milliseconds. */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** What the order service asks. */
  record QuoteRequest(String sku, int quantity) {}

  /** What pricing answers. */
  record Quote(String sku, int quantity, long unitPriceCents, long totalCents) {}

  private static final JsonCodec<QuoteRequest> REQUEST_CODEC = JsonCodec.of(QuoteRequest.class);
  private static final JsonCodec<Quote> QUOTE_CODEC = JsonCodec.of(Quote.class);

  /**
   * An unknown SKU fails the request at once: asking again would fail again, so retrying only
   * delays the requester's answer.
   */
  private static final RetryPolicy PRICING_RETRIES =
      RetryPolicy.builder().nonRetryable(UnknownSkuException.class).build();

  private PriceQuotes() {}

  /**
   * Starts pricing on {@code bus}, asks it for {@value #REQUESTS} quotes and the poison one, and
   * closes pricing again.
   *
   * @param catalog the SKUs pricing knows; {@link OrderPipeline#POISON_SKU} is not among them
   * @param problems receives what went wrong, in words
   */
  static OrderPipeline.Quotes ask(Polybus bus, List<String> catalog, List<String> problems) {
    Map<String, Long> prices = new HashMap<>();
    for (int i = 0; i < catalog.size(); i++) {
      prices.put(catalog.get(i), 250L + 125L * i);
    }
    Subscription pricing =
        bus.respond(
            TOPIC,
            GROUP,
            request -> {
              QuoteRequest q = REQUEST_CODEC.decode(request.message());
              Long unit = prices.get(q.sku());
              if (unit == null) {
                throw new UnknownSkuException("unknown SKU '" + q.sku() + "'");
              }
              Quote quote = new Quote(q.sku(), q.quantity(), unit, unit * q.quantity());
              return Message.builder().value(QUOTE_CODEC, quote).build();
            },
            SubscribeOptions.builder()
                .ordering(Ordering.NONE)
                .retryPolicy(PRICING_RETRIES)
                .build());
    try {
      long[] nanos = new long[REQUESTS];
      int answered = 0;
      for (int i = 0; i < REQUESTS; i++) {
        QuoteRequest q = new QuoteRequest(catalog.get(i % catalog.size()), 1 + i % 3);
        long start = System.nanoTime();
        Quote quote;
        try {
          quote = await(bus.request(TOPIC, q, REQUEST_CODEC, QUOTE_CODEC, TIMEOUT));
        } catch (ExecutionException e) {
          problems.add("quote " + (i + 1) + " (" + q.sku() + ") failed: " + e.getCause());
          return new OrderPipeline.Quotes(REQUESTS, answered, medianMillis(nanos, answered), null);
        }
        nanos[answered] = System.nanoTime() - start;
        long expected = prices.get(q.sku()) * q.quantity();
        if (!q.sku().equals(quote.sku()) || quote.totalCents() != expected) {
          problems.add("quote " + (i + 1) + " for " + q + " answered " + quote);
        } else {
          answered++;
        }
      }
      String remoteFailure = null;
      QuoteRequest poison = new QuoteRequest(OrderPipeline.POISON_SKU, 1);
      try {
        Quote quote = await(bus.request(TOPIC, poison, REQUEST_CODEC, QUOTE_CODEC, TIMEOUT));
        problems.add("pricing quoted the poison SKU: " + quote);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RemoteFailureException r) {
          remoteFailure = r.getMessage();
        } else {
          problems.add(
              "the quote for the poison SKU failed with "
                  + e.getCause()
                  + ", not RemoteFailureException");
        }
      }
      return new OrderPipeline.Quotes(
          REQUESTS, answered, medianMillis(nanos, answered), remoteFailure);
    } finally {
      pricing.close(Duration.ofSeconds(5));
    }
  }

  /**
   * The reply, or ExecutionException with the request's failure; a future that outlives its own
   * timeout (it should not) fails like a timeout.
   */
  private static <T> T await(CompletableFuture<T> reply) throws ExecutionException {
    try {
      return reply.get(TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      reply.cancel(false);
      throw new ExecutionException(new PolybusTimeoutException("no reply within " + TIMEOUT));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      reply.cancel(false);
      throw new ExecutionException(e);
    }
  }

  /** The median of the first {@code n} durations in nanoseconds, in milliseconds; NaN for none. */
  private static double medianMillis(long[] nanos, int n) {
    if (n == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(nanos, n);
    Arrays.sort(sorted);
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    return median / 1e6;
  }
}
