/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.app;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * The one test application: its listeners are the same whichever broker {@code polybus.uri} names;
 * the profiles {@code mem}, {@code log} and {@code kafka} change nothing else.
 */
@SpringBootApplication
public class OrderApplication {
  /** Spans the bus records, for the tests to read. */
  @Bean
  InMemorySpanExporter spanExporter() {
    return InMemorySpanExporter.create();
  }

  /** The application's OpenTelemetry: the starter installs Polybus tracing because it exists. */
  @Bean
  OpenTelemetry openTelemetry(InMemorySpanExporter exporter) {
    return OpenTelemetrySdk.builder()
        .setTracerProvider(
            SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(exporter))
                .build())
        .build();
  }

  public static void main(String[] args) {
    SpringApplication.run(OrderApplication.class, args);
  }
}
