/**
 * The order pipeline demo: one code base that runs on any Polybus backend, chosen by URI.
 *
 * <p>An order service publishes {@link io.polybus.samples.OrderCreated} events, keyed by customer
 * id, to the topic {@code orders}. Three services consume them, each in its own group: {@code
 * email}, {@code inventory} and {@code analytics}. One order names a SKU the inventory does not
 * know; the inventory service fails on it until its retry policy gives up, and the order lands in
 * {@code orders.inventory.dlq}, where the demo reads it back. Then the order service asks a pricing
 * service for quotes by request-reply ({@code PriceQuotes}); the poison SKU's quote fails remotely.
 *
 * <p>{@link io.polybus.samples.OrderPipeline} runs the whole scenario and returns a {@link
 * io.polybus.samples.OrderPipeline.Summary}; {@link io.polybus.samples.OrderPipelineDemo} is its
 * command line. Everything else in this package is an implementation detail of the demo.
 */
package io.polybus.samples;
