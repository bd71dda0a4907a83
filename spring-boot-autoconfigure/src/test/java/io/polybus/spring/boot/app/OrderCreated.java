/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.app;

import java.math.BigDecimal;
import java.time.Instant;

/** An order event; an {@link Instant} and a {@link BigDecimal} prove the application's mapper. */
public record OrderCreated(String orderId, String customerId, BigDecimal total, Instant at) {}
