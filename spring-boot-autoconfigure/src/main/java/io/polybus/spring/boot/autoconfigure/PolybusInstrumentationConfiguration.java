/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.polybus.micrometer.PolybusMetrics;
import io.polybus.opentelemetry.PolybusTracing;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;

/**
 * {@code polybus-micrometer} and {@code polybus-opentelemetry}, each installed when its module is
 * on the class path, the application has the registry or the OpenTelemetry it needs, and its
 * property ({@code polybus.metrics.enabled}, {@code polybus.tracing.enabled}) is not {@code false}.
 * Tracing comes first in the composition, so a metric recorded during an attempt sees its span.
 */
final class PolybusInstrumentationConfiguration {
  private PolybusInstrumentationConfiguration() {}

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({PolybusMetrics.class, MeterRegistry.class})
  @ConditionalOnBean(MeterRegistry.class)
  @ConditionalOnProperty(name = "polybus.metrics.enabled", matchIfMissing = true)
  static class Metrics {
    @Bean
    @Order(200)
    PolybusMetrics polybusMetrics(MeterRegistry registry) {
      return PolybusMetrics.create(registry);
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass({PolybusTracing.class, OpenTelemetry.class})
  @ConditionalOnBean(OpenTelemetry.class)
  @ConditionalOnProperty(name = "polybus.tracing.enabled", matchIfMissing = true)
  static class Tracing {
    @Bean
    @Order(100)
    PolybusTracing polybusTracing(OpenTelemetry openTelemetry) {
      return PolybusTracing.create(openTelemetry);
    }
  }
}
