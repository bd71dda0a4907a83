/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.samples.boot;

/**
 * An order was placed. The same event as the plain demo's ({@code
 * io.polybus.samples.OrderCreated}), with the same simple name, so the two demos read each other's
 * orders.
 *
 * @param orderId unique per order
 * @param customerId the ordering key
 * @param sku the ordered item; {@link OrderPipelineApplication#POISON_SKU} is unknown to inventory
 * @param quantity how many units
 * @param priceCents the total price in cents
 */
public record OrderCreated(
    String orderId, String customerId, String sku, int quantity, long priceCents) {}
