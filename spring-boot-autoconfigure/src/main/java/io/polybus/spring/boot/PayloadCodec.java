/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.Codec;
import io.polybus.CodecException;
import io.polybus.JsonCodec;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.Objects;

/**
 * A JSON {@link Codec} over a {@link PayloadMapper}, with {@link JsonCodec}'s headers and checks.
 * Immutable and thread-safe.
 */
final class PayloadCodec<T> implements Codec<T> {
  private final PayloadMapper mapper;
  private final Type type;
  private final String typeName;

  PayloadCodec(PayloadMapper mapper, Type type) {
    this.mapper = Objects.requireNonNull(mapper, "mapper");
    this.type = Objects.requireNonNull(type, "type");
    this.typeName = rawClass(type).getSimpleName();
  }

  static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    return Object.class;
  }

  @Override
  public String contentType() {
    return JsonCodec.CONTENT_TYPE;
  }

  @Override
  public String typeName() {
    return typeName;
  }

  @Override
  public byte[] encode(T value) {
    return mapper.write(value);
  }

  @Override
  @SuppressWarnings("unchecked")
  public T decode(byte[] payload, String contentType, String messageTypeName) {
    String expected = JsonCodec.CONTENT_TYPE;
    if (contentType != null
        && !contentType.regionMatches(true, 0, expected, 0, expected.length())) {
      throw new CodecException(
          "expected content type "
              + expected
              + " for "
              + type.getTypeName()
              + ", got '"
              + contentType
              + "'");
    }
    if (messageTypeName != null && !typeName.equals(messageTypeName)) {
      throw new CodecException(
          "expected a message of type '" + typeName + "', got '" + messageTypeName + "'");
    }
    Object value = mapper.read(payload, type);
    if (value == null) {
      throw new CodecException("JSON payload is null, expected " + type.getTypeName());
    }
    return (T) value;
  }

  @Override
  public String toString() {
    return "PayloadCodec[" + type.getTypeName() + "]";
  }
}
