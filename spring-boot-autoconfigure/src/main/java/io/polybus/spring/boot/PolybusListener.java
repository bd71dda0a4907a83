/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Subscribes a bean method to a topic as a member of a group.
 *
 * <p>The method takes the decoded payload and, optionally, the {@link io.polybus.Delivery}, in
 * either order: {@code void onOrder(OrderCreated order)} or {@code void onOrder(OrderCreated order,
 * Delivery delivery)}. A parameter of type {@link io.polybus.Message} or {@code byte[]} receives
 * the message or its payload as they are; any other type is decoded from JSON with the
 * application's Jackson mapper (see {@link PayloadMapper}). A payload that fails to decode is
 * dead-lettered at once, as with every typed subscription. Returning acks the delivery (in {@link
 * io.polybus.AckMode#AUTO}); throwing hands it to the retry policy.
 *
 * <p>Every attribute is a string so that it can hold a {@code ${...}} placeholder, resolved against
 * the environment; an empty attribute means the {@link io.polybus.SubscribeOptions} default. Every
 * setting can also be given, and overridden, per listener by properties: {@code
 * polybus.listeners.<id>.concurrency=8}, {@code polybus.listeners.<id>.retry.max-attempts=3}.
 *
 * <p>Subscriptions start once the application context has refreshed and close early in its
 * shutdown, draining within {@code spring.lifecycle.timeout-per-shutdown-phase} (see {@link
 * PolybusListenerRegistry}).
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Repeatable(PolybusListeners.class)
public @interface PolybusListener {
  /**
   * The listener's id, the key of its properties ({@code polybus.listeners.<id>.*}) and its name in
   * the actuator endpoint. Lower-case letters, digits and {@code -}; by default {@code
   * <topic>-<group>} with every other character replaced by {@code -}.
   */
  String id() default "";

  /** The topic (a portable name). Required, here or as {@code polybus.listeners.<id>.topic}. */
  String topic() default "";

  /** The group (a portable name). Required, here or as {@code polybus.listeners.<id>.group}. */
  String group() default "";

  /** Handler threads, 1 to 1024. */
  String concurrency() default "";

  /** Unsettled deliveries this listener may hold, 1 to 1,000,000. */
  String maxInFlight() default "";

  /**
   * {@code true} to read the topic's high-priority lane too, and first ({@code
   * SubscribeOptions.priority}); every listener of a topic that gets high-priority messages needs
   * it.
   */
  String priority() default "";

  /** {@code key} or {@code none}; by default {@code key} where the backend orders by key. */
  String ordering() default "";

  /** {@code auto} or {@code manual}. */
  String ackMode() default "";

  /** The dead-letter topic; by default {@code <topic>.<group>.dlq}. */
  String deadLetterTopic() default "";

  /**
   * Where a new group starts: {@code latest}, {@code earliest}, an ISO-8601 instant ({@code
   * 2026-01-01T00:00:00Z}) or {@code offset:<n>}.
   */
  String startFrom() default "";

  /** Duration ({@code 30s}, {@code PT30S}) after which a silent member's delivery moves on. */
  String ackTimeout() default "";

  /** Total deliveries of one message, the first included; 1 to 1000. */
  String retryMaxAttempts() default "";

  /** Delay after the first failure, as a duration. */
  String retryInitialBackoff() default "";

  /** Growth factor of the delay per failed attempt. */
  String retryMultiplier() default "";

  /** Cap on the delay, as a duration. */
  String retryMaxBackoff() default "";

  /** Fraction of the delay added at random, 0 to 1. */
  String retryJitter() default "";

  /** Exceptions dead-lettered without further attempts. */
  Class<? extends Throwable>[] nonRetryable() default {};

  /** {@code false} to register the listener without starting it with the context. */
  String autoStartup() default "";
}
