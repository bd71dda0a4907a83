/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.ConfigurationException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a Polybus {@link ConfigurationException} at startup into Spring Boot's short failure report
 * ("APPLICATION FAILED TO START", the key and what to do) instead of a long stack trace.
 */
public class PolybusConfigurationFailureAnalyzer
    extends AbstractFailureAnalyzer<ConfigurationException> {
  /** Creates the analyzer; Spring Boot calls it. */
  public PolybusConfigurationFailureAnalyzer() {}

  @Override
  protected FailureAnalysis analyze(Throwable rootFailure, ConfigurationException cause) {
    return new FailureAnalysis(
        "Polybus configuration: " + cause.getMessage(),
        "Correct the polybus.* key or value named above (docs/spring-boot.md lists them).",
        cause);
  }
}
