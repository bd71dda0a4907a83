/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import java.util.Set;

/**
 * Applies configuration (in the starter: the {@code polybus.listeners.<id>.*} properties) to each
 * listener before it subscribes. Thread-safe.
 */
public interface PolybusListenerCustomizer {
  /** A customizer that changes nothing and configures no id. */
  PolybusListenerCustomizer NONE =
      new PolybusListenerCustomizer() {
        @Override
        public <T> PolybusListenerEndpoint<T> customize(PolybusListenerEndpoint<T> endpoint) {
          return endpoint;
        }

        @Override
        public Set<String> configuredIds() {
          return Set.of();
        }
      };

  /** The endpoint with the configuration for its id applied. */
  <T> PolybusListenerEndpoint<T> customize(PolybusListenerEndpoint<T> endpoint);

  /**
   * The listener ids the configuration names. When the context starts, an id that no listener has
   * is an error (most likely a misspelt id), reported with the nearest listener id.
   */
  Set<String> configuredIds();
}
