/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.Codec;
import io.polybus.CodecException;
import java.lang.reflect.Type;

/**
 * Turns payload objects into JSON bytes and back with the application's Jackson mapper.
 *
 * <p>The auto-configuration provides one from the application's Jackson 3 {@code JsonMapper} (what
 * Spring Boot 4 configures), or, without Jackson 3, from a Jackson 2 {@code ObjectMapper}; declare
 * a bean of this type to replace it. Implementations must be thread-safe: one instance serves every
 * listener thread and every publish.
 */
public interface PayloadMapper {
  /**
   * Encodes a value as JSON.
   *
   * @throws CodecException if it cannot be encoded
   */
  byte[] write(Object value);

  /**
   * Decodes JSON into {@code type} (a class or a parameterized type such as {@code List<Order>}).
   *
   * @throws CodecException if the bytes are not a value of that type
   */
  Object read(byte[] json, Type type);

  /**
   * A {@link Codec} for {@code type} over this mapper that writes and checks the same headers as
   * {@link io.polybus.JsonCodec} ({@code polybus-content-type: application/json}, {@code
   * polybus-type: <simple class name>}), so a Spring service and a plain Polybus service using
   * {@code JsonCodec} read each other's messages.
   */
  default <T> Codec<T> codec(Type type) {
    return new PayloadCodec<>(this, type);
  }
}
