/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.Polybus;
import io.polybus.spring.boot.PolybusListenerRegistry;
import io.polybus.spring.boot.actuate.PolybusEndpoint;
import io.polybus.spring.boot.actuate.PolybusHealthIndicator;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code polybus} health indicator ({@code spring-boot-health}) and the {@code polybus}
 * actuator endpoint ({@code spring-boot-actuator}), each when its module is on the class path.
 */
@AutoConfiguration(after = PolybusAutoConfiguration.class)
@ConditionalOnBean(Polybus.class)
public class PolybusActuatorAutoConfiguration {
  /** Creates the auto-configuration; Spring calls it. */
  public PolybusActuatorAutoConfiguration() {}

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(HealthIndicator.class)
  @ConditionalOnEnabledHealthIndicator("polybus")
  static class Health {
    @Bean
    @ConditionalOnMissingBean(name = "polybusHealthIndicator")
    PolybusHealthIndicator polybusHealthIndicator(Polybus polybus, PolybusProperties properties) {
      return new PolybusHealthIndicator(polybus, properties.getHealth().getTimeout());
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  @ConditionalOnAvailableEndpoint(PolybusEndpoint.class)
  static class EndpointConfiguration {
    @Bean
    @ConditionalOnMissingBean
    PolybusEndpoint polybusEndpoint(
        Polybus polybus, PolybusListenerRegistry registry, PolybusProperties properties) {
      return new PolybusEndpoint(polybus, registry, properties.getHealth().getTimeout());
    }
  }
}
