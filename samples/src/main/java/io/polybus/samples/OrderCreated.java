package io.polybus.samples;

import java.util.Objects;

/**
 * The event the order service publishes when a customer places an order. Sent as JSON with {@link
 * io.polybus.JsonCodec}, keyed by {@link #customerId()} so that one customer's orders are handled
 * in the order they were placed.
 *
 * @param orderId unique order number, for example {@code ord-000042}
 * @param customerId the customer who ordered; the message key
 * @param sku the stock keeping unit ordered
 * @param quantity how many units, at least 1
 * @param priceCents the total price in cents
 */
public record OrderCreated(
    String orderId, String customerId, String sku, int quantity, long priceCents) {
  /** Checks the fields, so a malformed event fails to decode instead of reaching a service. */
  public OrderCreated {
    Objects.requireNonNull(orderId, "orderId");
    Objects.requireNonNull(customerId, "customerId");
    Objects.requireNonNull(sku, "sku");
    if (quantity < 1) {
      throw new IllegalArgumentException("quantity must be at least 1, was " + quantity);
    }
  }
}
