/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.CodecException;
import io.polybus.spring.boot.PayloadMapper;
import java.io.IOException;
import java.lang.reflect.Type;

/**
 * The two {@link PayloadMapper}s: over Jackson 3 (what Spring Boot 4 auto-configures) and over
 * Jackson 2. Each lives in its own nested class so that only the Jackson present is loaded.
 */
final class JacksonPayloadMappers {
  private JacksonPayloadMappers() {}

  /** Over a Jackson 3 {@code tools.jackson.databind.ObjectMapper}. Thread-safe. */
  static final class Jackson3 implements PayloadMapper {
    private final tools.jackson.databind.ObjectMapper mapper;

    Jackson3(tools.jackson.databind.ObjectMapper mapper) {
      this.mapper = mapper;
    }

    @Override
    public byte[] write(Object value) {
      try {
        return mapper.writeValueAsBytes(value);
      } catch (tools.jackson.core.JacksonException e) {
        throw new CodecException(
            "cannot encode " + value.getClass().getName() + " as JSON: " + e.getOriginalMessage(),
            e);
      }
    }

    @Override
    public Object read(byte[] json, Type type) {
      try {
        return mapper.readValue(json, mapper.constructType(type));
      } catch (tools.jackson.core.JacksonException e) {
        throw new CodecException(
            "cannot decode JSON into " + type.getTypeName() + ": " + e.getOriginalMessage(), e);
      }
    }

    @Override
    public String toString() {
      return "PayloadMapper[Jackson 3 " + mapper.getClass().getSimpleName() + "]";
    }
  }

  /** Over a Jackson 2 {@code com.fasterxml.jackson.databind.ObjectMapper}. Thread-safe. */
  static final class Jackson2 implements PayloadMapper {
    private final com.fasterxml.jackson.databind.ObjectMapper mapper;

    Jackson2(com.fasterxml.jackson.databind.ObjectMapper mapper) {
      this.mapper = mapper;
    }

    @Override
    public byte[] write(Object value) {
      try {
        return mapper.writeValueAsBytes(value);
      } catch (IOException e) {
        throw new CodecException(
            "cannot encode " + value.getClass().getName() + " as JSON: " + e.getMessage(), e);
      }
    }

    @Override
    public Object read(byte[] json, Type type) {
      try {
        return mapper.readValue(json, mapper.constructType(type));
      } catch (IOException e) {
        throw new CodecException(
            "cannot decode JSON into " + type.getTypeName() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public String toString() {
      return "PayloadMapper[Jackson 2 ObjectMapper]";
    }
  }
}
