/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.Instrumentation;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.spring.boot.PayloadMapper;
import io.polybus.spring.boot.PolybusListenerAnnotationProcessor;
import io.polybus.spring.boot.PolybusListenerRegistry;
import io.polybus.spring.boot.PolybusTemplate;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * The {@link Polybus} bean from {@code polybus.*} properties, the {@link PolybusTemplate}, and the
 * {@link PolybusListenerRegistry} that runs {@link io.polybus.spring.boot.PolybusListener} methods.
 *
 * <p>The bus is connected with every {@link Instrumentation} bean of the context, composed in their
 * order: the auto-configured Micrometer metrics and OpenTelemetry tracing ({@link
 * PolybusInstrumentationConfiguration}) and any the application declares. It is closed with the
 * context, after the listeners stopped.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
      "org.springframework.boot.jackson2.autoconfigure.Jackson2AutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration",
      "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration"
    })
@EnableConfigurationProperties(PolybusProperties.class)
@Import({
  PolybusPayloadMapperConfiguration.Jackson3.class,
  PolybusPayloadMapperConfiguration.Jackson2.class,
  PolybusInstrumentationConfiguration.Metrics.class,
  PolybusInstrumentationConfiguration.Tracing.class
})
public class PolybusAutoConfiguration {
  private static final Duration DEFAULT_SHUTDOWN_PHASE = Duration.ofSeconds(30);

  /** Creates the auto-configuration; Spring calls it. */
  public PolybusAutoConfiguration() {}

  /**
   * The bus. Startup fails here, naming the key, on an unknown {@code polybus.*} key or a setting
   * the backend refuses.
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Polybus polybus(
      PolybusProperties properties,
      ConfigurableEnvironment environment,
      ObjectProvider<Instrumentation> instrumentations) {
    Set<String> schemes = PolybusConnectionSettings.knownSchemes(getClass().getClassLoader());
    new PolybusConfigurationCheck(schemes).check(environment);
    PolybusOptions options =
        PolybusConnectionSettings.options(environment, properties.getUri(), schemes);
    List<Instrumentation> parts = instrumentations.orderedStream().toList();
    return parts.isEmpty()
        ? Polybus.connect(options)
        : Polybus.connect(options, Instrumentation.compose(parts.toArray(Instrumentation[]::new)));
  }

  /** Typed publishing with the application's mapper. */
  @Bean
  @ConditionalOnMissingBean
  public PolybusTemplate polybusTemplate(Polybus polybus, PayloadMapper mapper) {
    return new PolybusTemplate(polybus, mapper);
  }

  /** The listeners, started and drained with the context. */
  @Bean
  @ConditionalOnMissingBean
  public PolybusListenerRegistry polybusListenerRegistry(
      Polybus polybus, PolybusProperties properties, ConfigurableEnvironment environment) {
    return new PolybusListenerRegistry(
        polybus, new PropertiesListenerCustomizer(properties), drainDeadline(environment));
  }

  /** Registers {@code @PolybusListener} methods; static, as a bean post-processor must be. */
  @Bean
  @ConditionalOnMissingBean
  public static PolybusListenerAnnotationProcessor polybusListenerAnnotationProcessor(
      ObjectProvider<PolybusListenerRegistry> registry, ObjectProvider<PayloadMapper> mapper) {
    return new PolybusListenerAnnotationProcessor(registry, mapper);
  }

  /**
   * The shutdown phase's timeout less a margin for giving unsettled deliveries back once the
   * handlers stopped: Spring stops waiting for the phase after the timeout, so the drain must end
   * before it.
   */
  static Duration drainDeadline(ConfigurableEnvironment environment) {
    Duration phase =
        Binder.get(environment)
            .bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
            .orElse(DEFAULT_SHUTDOWN_PHASE);
    Duration margin = phase.dividedBy(5);
    if (margin.compareTo(Duration.ofSeconds(1)) > 0) {
      margin = Duration.ofSeconds(1);
    }
    return phase.minus(margin);
  }
}
