/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.spring.boot.PayloadMapper;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@link PayloadMapper}: the application's Jackson 3 {@code JsonMapper} where Jackson 3 is on
 * the class path (Spring Boot 4's default, {@code spring-boot-jackson}); otherwise the
 * application's Jackson 2 {@code ObjectMapper}. Without a mapper bean, a default mapper with every
 * module found on the class path.
 */
final class PolybusPayloadMapperConfiguration {
  private PolybusPayloadMapperConfiguration() {}

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "tools.jackson.databind.json.JsonMapper")
  static class Jackson3 {
    @Bean
    @ConditionalOnMissingBean(PayloadMapper.class)
    PayloadMapper polybusPayloadMapper(
        ObjectProvider<tools.jackson.databind.json.JsonMapper> mapper) {
      return new JacksonPayloadMappers.Jackson3(
          mapper.getIfAvailable(
              () -> tools.jackson.databind.json.JsonMapper.builder().findAndAddModules().build()));
    }
  }

  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "com.fasterxml.jackson.databind.ObjectMapper")
  static class Jackson2 {
    @Bean
    @ConditionalOnMissingBean(PayloadMapper.class)
    PayloadMapper polybusPayloadMapper(
        ObjectProvider<com.fasterxml.jackson.databind.ObjectMapper> mapper) {
      return new JacksonPayloadMappers.Jackson2(
          mapper.getIfAvailable(
              () -> new com.fasterxml.jackson.databind.ObjectMapper().findAndRegisterModules()));
    }
  }
}
