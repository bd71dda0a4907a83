/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.ConfigurationException;
import io.polybus.Polybus;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The application's listeners and their subscriptions, started and stopped with the context.
 *
 * <p>{@link PolybusListener} methods are registered here as their beans are created; register
 * others with {@link #register}. When the context has refreshed (phase {@link #PHASE}: after the
 * web server started) every listener subscribes; a listener registered later subscribes at once. In
 * a graceful shutdown the listeners stop first, before the web server and every other lifecycle
 * bean of a lower phase: each subscription stops fetching, lets running handlers finish and settle
 * within the drain deadline ({@code spring.lifecycle.timeout-per-shutdown-phase} less a margin for
 * the give-back), and gives every unsettled delivery back to its group. They close in parallel, so
 * the whole stop takes one drain deadline at most.
 *
 * <p>Thread-safe. The registry owns the subscriptions; the bus belongs to the context.
 */
public final class PolybusListenerRegistry implements SmartLifecycle {
  /**
   * Above Spring Boot's web server phases ({@code DEFAULT_PHASE - 1024} and {@code - 2048}): the
   * listeners start after the web server and stop before it.
   */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 512;

  private static final Log log = LogFactory.getLog(PolybusListenerRegistry.class);

  private final Polybus bus;
  private final PolybusListenerCustomizer customizer;
  private final Duration drainDeadline;

  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<String, Listener> listeners = new LinkedHashMap<>();
  // Guarded by lock.
  private boolean running;

  /**
   * A registry subscribing through {@code bus}, applying {@code customizer} to every listener and
   * draining each for at most {@code drainDeadline} when it stops.
   */
  public PolybusListenerRegistry(
      Polybus bus, PolybusListenerCustomizer customizer, Duration drainDeadline) {
    this.bus = Objects.requireNonNull(bus, "bus");
    this.customizer = Objects.requireNonNull(customizer, "customizer");
    this.drainDeadline = Objects.requireNonNull(drainDeadline, "drainDeadline");
  }

  /**
   * Adds a listener; it subscribes when the context starts, or at once when it already has (and the
   * endpoint has {@code autoStartup}).
   *
   * @throws IllegalStateException if another listener has the same id
   * @throws ConfigurationException if the topic or group is missing after the properties applied
   */
  public void register(PolybusListenerEndpoint<?> endpoint) {
    PolybusListenerEndpoint<?> effective = customizer.customize(endpoint);
    if (effective.topic().isEmpty() || effective.group().isEmpty()) {
      throw new ConfigurationException(
          "listener '"
              + effective.id()
              + "' has no "
              + (effective.topic().isEmpty() ? "topic" : "group")
              + ": give it on the annotation or as polybus.listeners."
              + effective.id()
              + "."
              + (effective.topic().isEmpty() ? "topic" : "group"));
    }
    synchronized (lock) {
      if (listeners.containsKey(effective.id())) {
        throw new IllegalStateException(
            "two Polybus listeners have the id '"
                + effective.id()
                + "': give one of them another id (@PolybusListener(id = ...))");
      }
      Listener l = new Listener(effective);
      listeners.put(effective.id(), l);
      if (running && effective.autoStartup()) {
        l.subscribe(bus);
      }
    }
  }

  /** A snapshot of every listener: its settings and, while subscribed, its subscription's state. */
  public List<ListenerState> listeners() {
    synchronized (lock) {
      List<ListenerState> out = new ArrayList<>(listeners.size());
      for (Listener l : listeners.values()) {
        out.add(l.state());
      }
      return out;
    }
  }

  /** The subscription of listener {@code id} while it runs. */
  public Optional<Subscription> subscription(String id) {
    synchronized (lock) {
      Listener l = listeners.get(id);
      return l == null ? Optional.empty() : Optional.ofNullable(l.subscription);
    }
  }

  /** The bound on each subscription's drain when the registry stops. */
  public Duration drainDeadline() {
    return drainDeadline;
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (running) {
        return;
      }
      for (String id : customizer.configuredIds()) {
        if (!listeners.containsKey(id)) {
          String nearest = Nearest.to(id, listeners.keySet());
          throw new ConfigurationException(
              "polybus.listeners."
                  + id
                  + " configures no listener"
                  + (nearest == null
                      ? " (the application has none)"
                      : ": did you mean polybus.listeners." + nearest + "?")
                  + " Listener ids: "
                  + listeners.keySet());
        }
      }
      List<Listener> started = new ArrayList<>();
      try {
        for (Listener l : listeners.values()) {
          if (l.endpoint.autoStartup()) {
            l.subscribe(bus);
            started.add(l);
          }
        }
      } catch (RuntimeException e) {
        for (Listener l : started) {
          l.closing = l.detach();
        }
        closeAll(started);
        throw e;
      }
      running = true;
    }
  }

  @Override
  public void stop() {
    List<Listener> toClose;
    synchronized (lock) {
      running = false;
      toClose = new ArrayList<>(listeners.values());
      for (Listener l : toClose) {
        l.closing = l.detach();
      }
    }
    closeAll(toClose);
  }

  @Override
  public boolean isRunning() {
    synchronized (lock) {
      return running;
    }
  }

  @Override
  public int getPhase() {
    return PHASE;
  }

  // Called without the lock, so that a handler reading listeners() while draining cannot deadlock.
  private void closeAll(List<Listener> toClose) {
    long started = System.nanoTime();
    List<Thread> closers = new ArrayList<>();
    for (Listener l : toClose) {
      Subscription s = l.closing;
      l.closing = null;
      if (s == null) {
        continue;
      }
      // One thread per subscription: they drain in parallel, so stopping takes one deadline.
      Thread t =
          new Thread(
              () -> {
                if (!s.close(drainDeadline)) {
                  log.warn(
                      "Polybus listener '"
                          + l.endpoint.id()
                          + "': handlers still running after "
                          + drainDeadline
                          + "; their deliveries were given back to the group");
                }
              },
              "polybus-stop-" + l.endpoint.id());
      t.start();
      closers.add(t);
    }
    boolean interrupted = false;
    for (Thread t : closers) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (!closers.isEmpty() && log.isInfoEnabled()) {
      log.info(
          "Polybus listeners stopped: "
              + closers.size()
              + " subscriptions drained in "
              + Duration.ofNanos(System.nanoTime() - started).toMillis()
              + " ms");
    }
  }

  /**
   * What the registry knows of one listener.
   *
   * @param id the listener's id
   * @param topic its topic
   * @param group its group
   * @param subscribed true while it has a subscription
   * @param active the subscription's {@link Subscription#isActive()}, false when not subscribed
   * @param inFlight the subscription's {@link Subscription#inFlight()}, 0 when not subscribed
   * @param options its subscribe options after the properties applied
   */
  public record ListenerState(
      String id,
      String topic,
      String group,
      boolean subscribed,
      boolean active,
      int inFlight,
      String options) {}

  private static final class Listener {
    final PolybusListenerEndpoint<?> endpoint;
    // Guarded by the registry's lock.
    Subscription subscription;
    // Handed from the locked detach to the unlocked close by the stopping thread.
    Subscription closing;

    Listener(PolybusListenerEndpoint<?> endpoint) {
      this.endpoint = endpoint;
    }

    void subscribe(Polybus bus) {
      subscription = subscribe(bus, endpoint);
    }

    private static <T> Subscription subscribe(Polybus bus, PolybusListenerEndpoint<T> e) {
      return bus.subscribe(e.topic(), e.group(), e.codec(), e.handler(), e.options());
    }

    Subscription detach() {
      Subscription s = subscription;
      subscription = null;
      return s;
    }

    ListenerState state() {
      Subscription s = subscription;
      return new ListenerState(
          endpoint.id(),
          endpoint.topic(),
          endpoint.group(),
          s != null,
          s != null && s.isActive(),
          s == null ? 0 : s.inFlight(),
          endpoint.options().toString());
    }
  }
}
