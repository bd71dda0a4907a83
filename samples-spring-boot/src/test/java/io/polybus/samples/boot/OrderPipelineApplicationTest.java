/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.samples.boot;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/** The Boot demo completes on mem: with the poison order dead-lettered after 3 attempts. */
class OrderPipelineApplicationTest {
  @Test
  void pipelineCompletesAndDeadLettersThePoisonOrder() {
    try (ConfigurableApplicationContext c =
        SpringApplication.run(
            OrderPipelineApplication.class, "--polybus.uri=mem:", "--orders=200")) {
      assertThat(c.getBean(OrderPipelineApplication.class).getExitCode()).isZero();
      OrderServices s = c.getBean(OrderServices.class);
      assertThat(s.processed("email")).isEqualTo(200);
      assertThat(s.processed("inventory")).isEqualTo(199);
      assertThat(s.failedAttempts()).isEqualTo(3);
      assertThat(s.deadLetter().header(io.polybus.DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    }
  }
}
