/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.Codec;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes objects as JSON with the application's mapper: the typed convenience over the {@link
 * Polybus} bean, which stays available for everything else.
 *
 * <p>Thread-safe; one instance (a bean) serves the application. It owns nothing: the bus is the
 * context's and closes with it. Messages carry the same codec headers as {@link
 * io.polybus.JsonCodec}'s, so {@link PolybusListener} methods and plain {@code JsonCodec}
 * subscribers both decode them.
 */
public final class PolybusTemplate {
  private final Polybus bus;
  private final PayloadMapper mapper;

  /** A template publishing through {@code bus}, encoding with {@code mapper}. */
  public PolybusTemplate(Polybus bus, PayloadMapper mapper) {
    this.bus = Objects.requireNonNull(bus, "bus");
    this.mapper = Objects.requireNonNull(mapper, "mapper");
  }

  /** The bus this template publishes through. */
  public Polybus bus() {
    return bus;
  }

  /** A message holding {@code payload} as JSON, with {@code key} (may be null) as ordering key. */
  public Message message(String key, Object payload) {
    Objects.requireNonNull(payload, "payload");
    Codec<Object> codec = mapper.codec(payload.getClass());
    return Message.builder().key(key).value(codec, payload).build();
  }

  /** Publishes {@code payload} without a key; the future completes when the broker confirmed it. */
  public CompletableFuture<PublishReceipt> send(String topic, Object payload) {
    return bus.publish(topic, message(null, payload));
  }

  /** Publishes {@code payload} with an ordering key. */
  public CompletableFuture<PublishReceipt> send(String topic, String key, Object payload) {
    return bus.publish(topic, message(key, payload));
  }

  /**
   * Publishes and waits for the broker's confirmation.
   *
   * @throws io.polybus.PolybusException when the backend failed or did not confirm in time
   */
  public PublishReceipt sendAndWait(String topic, String key, Object payload) {
    return bus.publishAndWait(topic, message(key, payload));
  }
}
