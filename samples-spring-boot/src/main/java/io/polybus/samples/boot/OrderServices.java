/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.samples.boot;

import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.spring.boot.PolybusListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * The three services of the pipeline and the dead-letter reader, as listener methods. Each counts
 * the orders of the current run (the {@value #RUN_HEADER} header) and acks, uncounted, those an
 * earlier, interrupted run left in a durable topic. Thread-safe: listeners run on several threads.
 */
@Component
public class OrderServices {
  /** The header with the run's id. */
  public static final String RUN_HEADER = "demo-run";

  private volatile String runId = "";
  private final Map<String, AtomicInteger> processed = new ConcurrentHashMap<>();
  private final AtomicInteger failedAttempts = new AtomicInteger();
  private final AtomicInteger stale = new AtomicInteger();
  private volatile Message deadLetter;

  void startRun(String id) {
    runId = id;
  }

  @PolybusListener(id = "email", topic = "orders", group = "email", concurrency = "4")
  void email(OrderCreated order, Delivery d) {
    count("email", d);
  }

  /** Fails on the poison SKU: 3 attempts 100 ms apart, then orders.inventory.dlq. */
  @PolybusListener(
      id = "inventory",
      topic = "orders",
      group = "inventory",
      concurrency = "4",
      retryMaxAttempts = "3",
      retryInitialBackoff = "100ms",
      retryJitter = "0.1")
  void inventory(OrderCreated order, Delivery d) {
    if (!isCurrent(d)) {
      return;
    }
    if (order.sku().equals(OrderPipelineApplication.POISON_SKU)) {
      failedAttempts.incrementAndGet();
      throw new IllegalArgumentException(
          "unknown SKU " + order.sku() + " in order " + order.orderId());
    }
    count("inventory", d);
  }

  @PolybusListener(id = "analytics", topic = "orders", group = "analytics", concurrency = "4")
  void analytics(OrderCreated order, Delivery d) {
    count("analytics", d);
  }

  /** Reads the dead letters back, as an operator's tool would. */
  @PolybusListener(id = "dead-letters", topic = "orders.inventory.dlq", group = "dlq")
  void deadLetter(Message m) {
    if (runId.equals(m.header(RUN_HEADER))) {
      deadLetter = m;
    }
  }

  private void count(String service, Delivery d) {
    if (isCurrent(d)) {
      processed.computeIfAbsent(service, k -> new AtomicInteger()).incrementAndGet();
    }
  }

  private boolean isCurrent(Delivery d) {
    if (runId.equals(d.message().header(RUN_HEADER))) {
      return true;
    }
    stale.incrementAndGet();
    return false;
  }

  int processed(String service) {
    AtomicInteger n = processed.get(service);
    return n == null ? 0 : n.get();
  }

  int failedAttempts() {
    return failedAttempts.get();
  }

  int stale() {
    return stale.get();
  }

  /** The run's dead letter, or null before it arrived. */
  Message deadLetter() {
    return deadLetter;
  }

  static String describe(Message m) {
    return "  id        "
        + m.id()
        + "\n  from      "
        + m.header(DeadLetterHeaders.SOURCE_TOPIC)
        + " / group "
        + m.header(DeadLetterHeaders.GROUP)
        + "\n  attempts  "
        + m.header(DeadLetterHeaders.ATTEMPTS)
        + "\n  reason    "
        + m.header(DeadLetterHeaders.REASON);
  }
}
