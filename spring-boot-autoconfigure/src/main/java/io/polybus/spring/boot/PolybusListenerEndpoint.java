/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.Codec;
import io.polybus.SubscribeOptions;
import io.polybus.TypedHandler;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One listener to subscribe: its id, topic, group, codec, handler and options, before the {@code
 * polybus.listeners.<id>.*} properties are applied. Immutable and thread-safe.
 *
 * <p>Build one for {@link PolybusListenerRegistry#register} when an annotation does not fit (a
 * topic known only at run time, a handler that is not a bean method).
 *
 * @param id the listener's id, the key of its properties: lower-case letters, digits and {@code -}
 * @param topic the topic, or empty when the properties give it
 * @param group the group, or empty when the properties give it
 * @param codec decodes each payload for the handler
 * @param handler called for each delivery
 * @param options the subscription's options before property overrides
 * @param autoStartup false to leave the listener stopped when the context starts
 * @param <T> the payload type
 */
public record PolybusListenerEndpoint<T>(
    String id,
    String topic,
    String group,
    Codec<T> codec,
    TypedHandler<T> handler,
    SubscribeOptions options,
    boolean autoStartup) {
  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]*");

  /** Checks the id and that nothing is null. */
  public PolybusListenerEndpoint {
    Objects.requireNonNull(id, "id");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "listener id '"
              + id
              + "' must be lower-case letters, digits and '-' (it is a property key:"
              + " polybus.listeners.<id>.*)");
    }
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(handler, "handler");
    Objects.requireNonNull(options, "options");
  }

  /** An endpoint with default options, started with the context. */
  public static <T> PolybusListenerEndpoint<T> of(
      String id, String topic, String group, Codec<T> codec, TypedHandler<T> handler) {
    return new PolybusListenerEndpoint<>(
        id, topic, group, codec, handler, SubscribeOptions.defaults(), true);
  }

  /** The default id of a listener: {@code <topic>-<group>}, lower-case, other characters as '-'. */
  public static String defaultId(String topic, String group) {
    return (topic + "-" + group).toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
  }
}
