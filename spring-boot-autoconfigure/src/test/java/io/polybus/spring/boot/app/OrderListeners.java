/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.app;

import io.polybus.Delivery;
import io.polybus.spring.boot.PolybusListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/** The application's listeners; they record what they received for the tests. */
@Component
public class OrderListeners {
  /** Orders the email listener received, with their delivery attempt. */
  public final List<String> emails = new CopyOnWriteArrayList<>();

  /** Attempts of the payment listener, which always fails, per order id. */
  public final Map<String, AtomicInteger> paymentAttempts = new ConcurrentHashMap<>();

  /** Its annotation says 5 attempts; the properties say 2 (polybus.listeners.payments.*). */
  @PolybusListener(topic = "${app.topic}", group = "email")
  void email(OrderCreated order, Delivery delivery) {
    emails.add(order.orderId() + "@" + delivery.attempt() + ":" + order.total() + ":" + order.at());
  }

  @PolybusListener(
      id = "payments",
      topic = "${app.topic}",
      group = "payments",
      retryMaxAttempts = "5",
      retryInitialBackoff = "1s")
  void payment(OrderCreated order) {
    paymentAttempts.computeIfAbsent(order.orderId(), k -> new AtomicInteger()).incrementAndGet();
    throw new IllegalStateException("card declined for " + order.orderId());
  }
}
