/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.actuate;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Runs one broker call at a time on a daemon thread and waits for it at most a timeout, so that an
 * actuator request never blocks on a dead broker and repeated requests never pile up threads: while
 * a call is still running, the next caller waits on that same call rather than starting another.
 * Thread-safe.
 */
final class BoundedCall<T> {
  private final String name;
  private final Supplier<T> call;
  private final AtomicReference<CompletableFuture<T>> running = new AtomicReference<>();

  BoundedCall(String name, Supplier<T> call) {
    this.name = name;
    this.call = call;
  }

  /**
   * The call's result, or empty when it did not finish within {@code timeout} (it goes on, and the
   * next caller waits for it).
   *
   * @throws RuntimeException what the call threw
   */
  java.util.Optional<T> get(Duration timeout) throws InterruptedException {
    CompletableFuture<T> f;
    while (true) {
      f = running.get();
      if (f != null && f.isDone()) {
        // A finished call's answer is old news: the caller asked for a fresh round trip.
        running.compareAndSet(f, null);
        continue;
      }
      if (f != null) {
        break; // still running: wait on it rather than start a second one
      }
      CompletableFuture<T> mine = new CompletableFuture<>();
      if (!running.compareAndSet(null, mine)) {
        continue;
      }
      Thread t =
          new Thread(
              () -> {
                try {
                  mine.complete(call.get());
                } catch (Throwable e) {
                  mine.completeExceptionally(e);
                }
              },
              name);
      t.setDaemon(true);
      t.start();
      f = mine;
      break;
    }
    try {
      return java.util.Optional.ofNullable(f.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
    } catch (TimeoutException e) {
      return java.util.Optional.empty();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}
