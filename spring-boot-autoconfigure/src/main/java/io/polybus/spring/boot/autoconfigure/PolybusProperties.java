/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.AckMode;
import io.polybus.Ordering;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code polybus.*} properties of the starter. Native settings of a backend's client, {@code
 * polybus.<scheme>.<setting>}, are not fields here: they are read from the environment as written
 * and passed to {@link io.polybus.PolybusOptions#fromMap} (see {@link PolybusConnectionSettings}).
 *
 * <p>Every key under {@code polybus.} that is neither one of these nor a native setting of a known
 * backend fails startup naming the key and the nearest valid one ({@link
 * PolybusConfigurationCheck}). Mutable while Spring binds it; treat it as read-only afterwards.
 */
@ConfigurationProperties(prefix = "polybus")
public class PolybusProperties {
  /**
   * The backend's URI: {@code log:<directory>} (the embedded log), {@code mem:}, {@code
   * kafka://host:9092}, {@code redis://host:6379}, {@code rabbitmq://user:pass@host/vhost}, {@code
   * sqs:?region=eu-west-1}. Changing it is all it takes to switch brokers.
   */
  private String uri = "log:./polybus-data";

  private final Health health = new Health();
  private final Toggle metrics = new Toggle();
  private final Toggle tracing = new Toggle();

  /** Settings per listener id, overriding those of its annotation or registration. */
  private final Map<String, Listener> listeners = new LinkedHashMap<>();

  public String getUri() {
    return uri;
  }

  public void setUri(String uri) {
    this.uri = uri;
  }

  public Health getHealth() {
    return health;
  }

  /**
   * Micrometer metrics (polybus-micrometer), installed when the application has a MeterRegistry.
   */
  public Toggle getMetrics() {
    return metrics;
  }

  /**
   * OpenTelemetry tracing (polybus-opentelemetry), installed when the application has an
   * OpenTelemetry.
   */
  public Toggle getTracing() {
    return tracing;
  }

  public Map<String, Listener> getListeners() {
    return listeners;
  }

  /** The health indicator's settings. */
  public static class Health {
    /**
     * How long the health indicator waits for the broker's answer before it reports DOWN; the check
     * goes on in the background and a new one starts only once it ended.
     */
    private Duration timeout = Duration.ofSeconds(2);

    public Duration getTimeout() {
      return timeout;
    }

    public void setTimeout(Duration timeout) {
      this.timeout = timeout;
    }
  }

  /** Turns an instrumentation on or off. */
  public static class Toggle {
    /** Whether to install it when the application has what it needs. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** One listener's settings; each one given replaces the annotation's. */
  public static class Listener {
    /** The topic. */
    private String topic;

    /** The group. */
    private String group;

    /** Handler threads, 1 to 1024. */
    private Integer concurrency;

    /** Unsettled deliveries this listener may hold, 1 to 1,000,000. */
    private Integer maxInFlight;

    /** Whether the listener reads the topic's high-priority lane too, and first. */
    private Boolean priority;

    /** KEY or NONE. */
    private Ordering ordering;

    /** AUTO or MANUAL. */
    private AckMode ackMode;

    /** The dead-letter topic. */
    private String deadLetterTopic;

    /** Where a new group starts: latest, earliest, an ISO-8601 instant or offset:N. */
    private String startFrom;

    /** How long a silent member keeps a delivery before the backend moves it on. */
    private Duration ackTimeout;

    /** Whether the listener subscribes when the context starts. */
    private Boolean autoStartup;

    private final Retry retry = new Retry();

    public String getTopic() {
      return topic;
    }

    public void setTopic(String topic) {
      this.topic = topic;
    }

    public String getGroup() {
      return group;
    }

    public void setGroup(String group) {
      this.group = group;
    }

    public Integer getConcurrency() {
      return concurrency;
    }

    public void setConcurrency(Integer concurrency) {
      this.concurrency = concurrency;
    }

    public Integer getMaxInFlight() {
      return maxInFlight;
    }

    public void setMaxInFlight(Integer maxInFlight) {
      this.maxInFlight = maxInFlight;
    }

    public Boolean getPriority() {
      return priority;
    }

    public void setPriority(Boolean priority) {
      this.priority = priority;
    }

    public Ordering getOrdering() {
      return ordering;
    }

    public void setOrdering(Ordering ordering) {
      this.ordering = ordering;
    }

    public AckMode getAckMode() {
      return ackMode;
    }

    public void setAckMode(AckMode ackMode) {
      this.ackMode = ackMode;
    }

    public String getDeadLetterTopic() {
      return deadLetterTopic;
    }

    public void setDeadLetterTopic(String deadLetterTopic) {
      this.deadLetterTopic = deadLetterTopic;
    }

    public String getStartFrom() {
      return startFrom;
    }

    public void setStartFrom(String startFrom) {
      this.startFrom = startFrom;
    }

    public Duration getAckTimeout() {
      return ackTimeout;
    }

    public void setAckTimeout(Duration ackTimeout) {
      this.ackTimeout = ackTimeout;
    }

    public Boolean getAutoStartup() {
      return autoStartup;
    }

    public void setAutoStartup(Boolean autoStartup) {
      this.autoStartup = autoStartup;
    }

    public Retry getRetry() {
      return retry;
    }
  }

  /** A listener's retry policy; each setting given replaces the annotation's. */
  public static class Retry {
    /** Total deliveries of one message, the first included; 1 to 1000. */
    private Integer maxAttempts;

    /** The delay after the first failure. */
    private Duration initialBackoff;

    /** Growth factor of the delay per failed attempt, 1.0 to 100. */
    private Double multiplier;

    /** The cap on the delay. */
    private Duration maxBackoff;

    /** Fraction of the delay added at random, 0 to 1. */
    private Double jitter;

    public Integer getMaxAttempts() {
      return maxAttempts;
    }

    public void setMaxAttempts(Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    public Duration getInitialBackoff() {
      return initialBackoff;
    }

    public void setInitialBackoff(Duration initialBackoff) {
      this.initialBackoff = initialBackoff;
    }

    public Double getMultiplier() {
      return multiplier;
    }

    public void setMultiplier(Double multiplier) {
      this.multiplier = multiplier;
    }

    public Duration getMaxBackoff() {
      return maxBackoff;
    }

    public void setMaxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
    }

    public Double getJitter() {
      return jitter;
    }

    public void setJitter(Double jitter) {
      this.jitter = jitter;
    }
  }
}
