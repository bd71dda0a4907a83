/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.polybus.Polybus;
import io.polybus.spring.boot.actuate.PolybusEndpoint;
import io.polybus.spring.boot.app.OrderApplication;
import io.polybus.spring.boot.app.OrderCreated;
import io.polybus.spring.boot.app.OrderListeners;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * One application, three brokers: each nested class activates one profile, and the profiles differ
 * by {@code polybus.uri} alone. The same tests pass on each.
 */
class BrokerSwitchTest {
  abstract static class OnEveryBroker {
    private static final String TOPIC = "boot-orders-" + UUID.randomUUID();

    @DynamicPropertySource
    static void topic(DynamicPropertyRegistry registry) {
      registry.add("app.topic", () -> TOPIC);
    }

    @Autowired Polybus bus;
    @Autowired PolybusTemplate template;
    @Autowired OrderListeners listeners;
    @Autowired MeterRegistry meters;
    @Autowired InMemorySpanExporter spans;
    @Autowired PolybusEndpoint endpoint;

    @Autowired
    @org.springframework.beans.factory.annotation.Qualifier("polybusHealthIndicator")
    HealthIndicator health;

    @Test
    void publishedOrderReachesTheAnnotatedListenerDecodedWithTheApplicationMapper() {
      Instant at = Instant.parse("2026-01-02T03:04:05.123Z");
      template.sendAndWait(
          TOPIC, "c-1", new OrderCreated("o-1", "c-1", new BigDecimal("12.50"), at));
      awaitTrue(() -> listeners.emails.stream().anyMatch(e -> e.startsWith("o-1@")));
      assertThat(listeners.emails)
          .filteredOn(e -> e.startsWith("o-1@"))
          .containsExactly("o-1@1:12.50:" + at);
    }

    @Test
    void propertiesOverrideTheAnnotationsRetryAttempts() throws Exception {
      template.sendAndWait(
          TOPIC, "c-2", new OrderCreated("o-2", "c-2", BigDecimal.ONE, Instant.now()));
      awaitTrue(() -> attempts("o-2") >= 2);
      // The annotation asks 5 attempts 1 s apart; the properties' 2 attempts 20 ms apart won.
      Thread.sleep(300);
      assertThat(attempts("o-2")).isEqualTo(2);
    }

    private int attempts(String orderId) {
      java.util.concurrent.atomic.AtomicInteger n = listeners.paymentAttempts.get(orderId);
      return n == null ? 0 : n.get();
    }

    @Test
    void healthIsUpAndNamesTheBackend() {
      org.springframework.boot.health.contributor.Health h = health.health();
      assertThat(h.getStatus()).isEqualTo(Status.UP);
      assertThat(h.getDetails()).containsEntry("backend", bus.options().scheme());
    }

    @Test
    void metricsAndTracingAreInstalledFromTheApplicationsBeans() {
      template.sendAndWait(
          TOPIC, "c-3", new OrderCreated("o-3", "c-3", BigDecimal.TEN, Instant.now()));
      awaitTrue(() -> listeners.emails.stream().anyMatch(e -> e.startsWith("o-3@")));
      assertThat(
              meters
                  .find("messaging.client.sent.messages")
                  .tag("messaging.destination.name", TOPIC)
                  .counter())
          .isNotNull();
      awaitTrue(
          () ->
              spans.getFinishedSpanItems().stream()
                  .anyMatch(s -> s.getName().equals("process " + TOPIC)));
      assertThat(spans.getFinishedSpanItems()).anyMatch(s -> s.getName().equals("send " + TOPIC));
    }

    @Test
    @SuppressWarnings("unchecked")
    void endpointListsEveryListenerWithStateAndLag() {
      Map<String, Object> out = endpoint.polybus();
      List<Map<String, Object>> ls = (List<Map<String, Object>>) out.get("listeners");
      assertThat(ls)
          .extracting(l -> l.get("id"))
          .contains(PolybusListenerEndpoint.defaultId(TOPIC, "email"), "payments");
      assertThat(ls).allSatisfy(l -> assertThat(l.get("state")).isEqualTo("running"));
      assertThat(ls).allSatisfy(l -> assertThat(l).containsKey("lag"));
    }
  }

  @Nested
  @SpringBootTest(classes = OrderApplication.class)
  @ActiveProfiles("mem")
  class Mem extends OnEveryBroker {}

  @Nested
  @SpringBootTest(classes = OrderApplication.class)
  @ActiveProfiles("log")
  class Log extends OnEveryBroker {}

  @Nested
  @SpringBootTest(classes = OrderApplication.class)
  @ActiveProfiles("kafka")
  class Kafka extends OnEveryBroker {}

  static void awaitTrue(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 20 s");
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
