/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.SubscribeOptions;
import io.polybus.spring.boot.app.OrderApplication;
import io.polybus.spring.boot.app.OrderCreated;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A listener registered in code after the context started subscribes at once; and the real
 * application refuses a misspelt key at startup.
 */
class ProgrammaticRegistrationTest {
  @Test
  void listenerRegisteredAfterStartSubscribesAtOnceAndGetsMessages() {
    try (ConfigurableApplicationContext c =
        SpringApplication.run(
            OrderApplication.class, "--polybus.uri=mem:", "--app.topic=programmatic")) {
      PolybusListenerRegistry registry = c.getBean(PolybusListenerRegistry.class);
      List<String> seen = new CopyOnWriteArrayList<>();
      registry.register(
          new PolybusListenerEndpoint<>(
              "late",
              "programmatic",
              "late",
              c.getBean(PayloadMapper.class).<OrderCreated>codec(OrderCreated.class),
              (order, d) -> seen.add(order.orderId()),
              SubscribeOptions.builder().concurrency(3).build(),
              true));
      assertThat(registry.subscription("late")).isPresent();
      assertThat(registry.listeners())
          .filteredOn(l -> l.id().equals("late"))
          .singleElement()
          .satisfies(l -> assertThat(l.options()).contains("concurrency=3"));
      c.getBean(PolybusTemplate.class)
          .sendAndWait(
              "programmatic", "k", new OrderCreated("o-9", "k", BigDecimal.ONE, Instant.now()));
      BrokerSwitchTest.awaitTrue(() -> seen.contains("o-9"));
    }
  }

  @Test
  void theApplicationRefusesAMisspeltKeyNamingItAndTheNearestValidKey() {
    assertThatThrownBy(
            () ->
                SpringApplication.run(
                    OrderApplication.class,
                    "--polybus.uri=mem:",
                    "--app.topic=t",
                    "--polybus.listeners.payments.retry.max-atempts=3"))
        .satisfies(
            e -> {
              Throwable t = e;
              while (!(t instanceof ConfigurationException) && t.getCause() != null) {
                t = t.getCause();
              }
              System.out.println("startup failure: " + t.getMessage());
              assertThat(t)
                  .isInstanceOf(ConfigurationException.class)
                  .hasMessageContaining("'polybus.listeners.payments.retry.max-atempts'")
                  .hasMessageContaining(
                      "did you mean 'polybus.listeners.payments.retry.max-attempts'");
            });
  }
}
