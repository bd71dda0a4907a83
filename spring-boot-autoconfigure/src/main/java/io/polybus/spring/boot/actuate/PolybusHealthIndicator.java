/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.actuate;

import io.polybus.Polybus;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The {@code polybus} health indicator: UP when {@link Polybus#health()} made its round trip to the
 * broker and no subscription has failed, DOWN otherwise, and DOWN when the broker has not answered
 * within the timeout ({@code polybus.health.timeout}, 2 s unless set). The check runs on a daemon
 * thread, so the health endpoint answers in at most the timeout however dead the broker is; while a
 * check is still running, the next request waits for that one instead of starting another.
 *
 * <p>Thread-safe. Owns nothing but its one check thread at a time.
 */
public final class PolybusHealthIndicator implements HealthIndicator {
  private final Polybus bus;
  private final Duration timeout;
  private final BoundedCall<io.polybus.Health> check;

  /** An indicator for {@code bus}, waiting at most {@code timeout} for each check. */
  public PolybusHealthIndicator(Polybus bus, Duration timeout) {
    this.bus = Objects.requireNonNull(bus, "bus");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.check = new BoundedCall<>("polybus-health", bus::health);
  }

  @Override
  public Health health() {
    String backend = bus.options().scheme();
    Optional<io.polybus.Health> h;
    try {
      h = check.get(timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Health.unknown().withDetail("backend", backend).build();
    } catch (RuntimeException e) {
      // Polybus.health() never throws by contract; a closed bus does (IllegalStateException).
      return Health.down()
          .withDetail("backend", backend)
          .withDetail("detail", e.toString())
          .build();
    }
    if (h.isEmpty()) {
      return Health.down()
          .withDetail("backend", backend)
          .withDetail("detail", "the broker did not answer within " + timeout)
          .build();
    }
    Health.Builder b = h.get().up() ? Health.up() : Health.down();
    return b.withDetail("backend", backend).withDetail("detail", h.get().detail()).build();
  }
}
