/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.polybus.ConfigurationException;
import io.polybus.Delivery;
import io.polybus.Polybus;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.spring.boot.autoconfigure.PolybusAutoConfiguration;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** A {@code polybus.*} key that means nothing fails startup naming it and the nearest valid key. */
class MisconfigurationTest {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(PolybusAutoConfiguration.class))
          .withUserConfiguration(Listeners.class)
          .withPropertyValues("polybus.uri=mem:");

  @Configuration(proxyBeanMethods = false)
  static class Listeners {
    @Bean
    Object emailListener() {
      return new Object() {
        @PolybusListener(id = "email", topic = "orders", group = "email")
        void on(String order, Delivery d) {}
      };
    }
  }

  @Test
  void misspeltTopLevelKeyFailsNamingItAndTheNearestKey() {
    runner
        .withPropertyValues("polybus.metrcs.enabled=false")
        .run(
            c ->
                failure(c)
                    .hasMessageContaining("'polybus.metrcs.enabled'")
                    .hasMessageContaining("did you mean 'polybus.metrics.enabled'"));
  }

  @Test
  void misspeltListenerSettingFailsNamingTheListenersValidKey() {
    runner
        .withPropertyValues("polybus.listeners.email.concurrancy=3")
        .run(
            c ->
                failure(c)
                    .hasMessageContaining("'polybus.listeners.email.concurrancy'")
                    .hasMessageContaining("did you mean 'polybus.listeners.email.concurrency'"));
  }

  @Test
  void propertiesForAListenerThatDoesNotExistFailNamingTheNearestId() {
    runner
        .withPropertyValues("polybus.listeners.emial.concurrency=3")
        .run(
            c ->
                failure(c)
                    .hasMessageContaining("polybus.listeners.emial configures no listener")
                    .hasMessageContaining("did you mean polybus.listeners.email"));
  }

  @Test
  void badListenerValueFailsStartup() {
    runner
        .withPropertyValues("polybus.listeners.email.concurrency=0")
        .run(c -> assertThat(c).hasFailed());
  }

  @Test
  void relaxedSpellingsAndNativeSettingsOfKnownBackendsAreAccepted() {
    runner
        .withPropertyValues(
            "polybus.listeners.email.maxInFlight=10",
            "polybus.listeners.email.retry.max-attempts=2",
            // For another backend's profile: kept out of the mem: bus, as PolybusOptions.fromMap
            // does.
            "polybus.kafka.linger.ms=5",
            "polybus.rabbitmq.connection.heartbeat=10")
        .run(
            c -> {
              assertThat(c).hasNotFailed();
              assertThat(c.getBean(PolybusListenerRegistry.class).listeners())
                  .singleElement()
                  .satisfies(l -> assertThat(l.options()).contains("maxInFlight=10"));
            });
  }

  @Test
  void aListenerCanBeToldToReadPrioritiesAndANonBooleanPriorityFailsStartup() {
    runner
        .withPropertyValues("polybus.listeners.email.priority=true")
        .run(
            c -> {
              assertThat(c).hasNotFailed();
              assertThat(c.getBean(PolybusListenerRegistry.class).listeners())
                  .singleElement()
                  .satisfies(l -> assertThat(l.options()).contains("priority=true"));
            });
    runner
        .withPropertyValues("polybus.listeners.email.priority=maybe")
        .run(c -> assertThat(c).hasFailed());
  }

  @Test
  void aNativeSettingTheBackendRefusesFailsStartupNamingIt() {
    runner
        .withPropertyValues("polybus.mem.anything=1")
        .run(c -> failure(c).hasMessageContaining("anything"));
  }

  @Test
  void metricsArePassedOnUnlessTurnedOff() {
    ApplicationContextRunner withRegistry = runner.withBean(SimpleMeterRegistry.class);
    withRegistry.run(c -> assertThat(c).hasSingleBean(PolybusMetrics.class));
    withRegistry
        .withPropertyValues("polybus.metrics.enabled=false")
        .run(
            c -> {
              assertThat(c).hasSingleBean(Polybus.class);
              assertThat(c).doesNotHaveBean(PolybusMetrics.class);
            });
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> failure(
      org.springframework.boot.test.context.assertj.AssertableApplicationContext c) {
    assertThat(c).hasFailed();
    Throwable t = c.getStartupFailure();
    while (!(t instanceof ConfigurationException) && t.getCause() != null) {
      t = t.getCause();
    }
    return assertThat(t).isInstanceOf(ConfigurationException.class);
  }
}
