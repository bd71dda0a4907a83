/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.actuate;

import io.polybus.ConsumerLag;
import io.polybus.Polybus;
import io.polybus.spring.boot.PolybusListenerRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * The {@code polybus} actuator endpoint: the backend and every listener with its topic, group,
 * state, in-flight count and lag ({@link Polybus#lag}). Each lag is asked of the broker with the
 * health timeout as its bound, so the endpoint answers even with a dead broker (the lag then reads
 * {@code null} with the reason). Thread-safe.
 */
@Endpoint(id = "polybus")
public final class PolybusEndpoint {
  private final Polybus bus;
  private final PolybusListenerRegistry registry;
  private final Duration timeout;

  /** An endpoint over the bus and its listeners; {@code timeout} bounds each lag query. */
  public PolybusEndpoint(Polybus bus, PolybusListenerRegistry registry, Duration timeout) {
    this.bus = bus;
    this.registry = registry;
    this.timeout = timeout;
  }

  /** The backend and the listeners. */
  @ReadOperation
  public Map<String, Object> polybus() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("backend", bus.options().redacted());
    List<Map<String, Object>> listeners = new ArrayList<>();
    boolean lagKnown = bus.capabilities().lagAccuracy() != ConsumerLag.Accuracy.NONE;
    for (PolybusListenerRegistry.ListenerState s : registry.listeners()) {
      Map<String, Object> l = new LinkedHashMap<>();
      l.put("id", s.id());
      l.put("topic", s.topic());
      l.put("group", s.group());
      l.put("state", !s.subscribed() ? "stopped" : s.active() ? "running" : "failed");
      l.put("inFlight", s.inFlight());
      if (lagKnown) {
        putLag(l, s.topic(), s.group());
      }
      l.put("options", s.options());
      listeners.add(l);
    }
    out.put("listeners", listeners);
    return out;
  }

  private void putLag(Map<String, Object> l, String topic, String group) {
    BoundedCall<ConsumerLag> call = new BoundedCall<>("polybus-lag", () -> bus.lag(topic, group));
    try {
      Optional<ConsumerLag> lag = call.get(timeout);
      if (lag.isPresent()) {
        l.put("lag", lag.get().total());
        l.put("lagAccuracy", String.valueOf(lag.get().accuracy()));
      } else {
        l.put("lag", null);
        l.put("lagError", "the broker did not answer within " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      l.put("lag", null);
      l.put("lagError", e.getMessage());
    }
  }
}
