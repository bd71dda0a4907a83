/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.RetryPolicy;
import io.polybus.SubscribeOptions;
import io.polybus.spring.boot.ListenerValues;
import io.polybus.spring.boot.PolybusListenerCustomizer;
import io.polybus.spring.boot.PolybusListenerEndpoint;
import java.util.Set;

/** Applies {@code polybus.listeners.<id>.*} to each listener. Thread-safe once bound. */
final class PropertiesListenerCustomizer implements PolybusListenerCustomizer {
  private final PolybusProperties properties;

  PropertiesListenerCustomizer(PolybusProperties properties) {
    this.properties = properties;
  }

  @Override
  public Set<String> configuredIds() {
    return properties.getListeners().keySet();
  }

  @Override
  public <T> PolybusListenerEndpoint<T> customize(PolybusListenerEndpoint<T> e) {
    PolybusProperties.Listener p = properties.getListeners().get(e.id());
    if (p == null) {
      return e;
    }
    SubscribeOptions.Builder b = e.options().newBuilder();
    if (p.getConcurrency() != null) {
      b.concurrency(p.getConcurrency());
    }
    if (p.getMaxInFlight() != null) {
      b.maxInFlight(p.getMaxInFlight());
    }
    if (p.getPriority() != null) {
      b.priority(p.getPriority());
    }
    if (p.getOrdering() != null) {
      b.ordering(p.getOrdering());
    }
    if (p.getAckMode() != null) {
      b.ackMode(p.getAckMode());
    }
    if (p.getDeadLetterTopic() != null) {
      b.deadLetterTopic(p.getDeadLetterTopic());
    }
    if (p.getStartFrom() != null) {
      b.startFrom(ListenerValues.startFrom(p.getStartFrom()));
    }
    if (p.getAckTimeout() != null) {
      b.ackTimeout(p.getAckTimeout());
    }
    PolybusProperties.Retry r = p.getRetry();
    RetryPolicy.Builder rb = e.options().retryPolicy().newBuilder();
    if (r.getMaxAttempts() != null) {
      rb.maxAttempts(r.getMaxAttempts());
    }
    if (r.getInitialBackoff() != null) {
      rb.initialBackoff(r.getInitialBackoff());
    }
    if (r.getMultiplier() != null) {
      rb.multiplier(r.getMultiplier());
    }
    if (r.getMaxBackoff() != null) {
      rb.maxBackoff(r.getMaxBackoff());
    }
    if (r.getJitter() != null) {
      rb.jitter(r.getJitter());
    }
    b.retryPolicy(rb.build());
    return new PolybusListenerEndpoint<>(
        e.id(),
        p.getTopic() != null ? p.getTopic() : e.topic(),
        p.getGroup() != null ? p.getGroup() : e.group(),
        e.codec(),
        e.handler(),
        b.build(),
        p.getAutoStartup() != null ? p.getAutoStartup() : e.autoStartup());
  }
}
