/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.PolybusOptions;
import io.polybus.spi.BackendProvider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Builds the bus's {@link PolybusOptions} from the environment: {@code polybus.uri} and the native
 * settings {@code polybus.<scheme>.<setting>}, which are read with their names as written (a
 * client's setting names are case-sensitive, so they are not relaxed-bound) and with placeholders
 * resolved, then handed to {@link PolybusOptions#fromMap} as a plain Polybus application would.
 */
final class PolybusConnectionSettings {
  /**
   * The schemes of Polybus's own backends: their native settings are accepted even when the backend
   * is not on the class path, so one file can serve a profile per broker.
   */
  static final Set<String> WELL_KNOWN_SCHEMES =
      Set.of("mem", "log", "kafka", "redis", "rediss", "rabbitmq", "amqp", "amqps", "sqs");

  private PolybusConnectionSettings() {}

  /** The schemes whose native settings are accepted: the well-known ones and those on the path. */
  static Set<String> knownSchemes(ClassLoader loader) {
    Set<String> schemes = new TreeSet<>(WELL_KNOWN_SCHEMES);
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class, loader)) {
      schemes.addAll(p.schemes());
    }
    return schemes;
  }

  /** The options for the bus: {@code uri} plus every native setting of a known scheme. */
  static PolybusOptions options(ConfigurableEnvironment env, String uri, Set<String> schemes) {
    Map<String, Object> config = new LinkedHashMap<>();
    for (PropertySource<?> source : env.getPropertySources()) {
      if (!(source instanceof EnumerablePropertySource<?> e)) {
        continue;
      }
      for (String name : e.getPropertyNames()) {
        if (isNativeSetting(name, schemes) && !config.containsKey(name)) {
          // env.getProperty: the value of highest precedence, placeholders resolved.
          config.put(name, env.getProperty(name));
        }
      }
    }
    config.put("polybus.uri", uri);
    return PolybusOptions.fromMap(config);
  }

  private static boolean isNativeSetting(String name, Set<String> schemes) {
    if (!name.startsWith("polybus.")) {
      return false;
    }
    int dot = name.indexOf('.', "polybus.".length());
    return dot > 0
        && dot < name.length() - 1
        && schemes.contains(name.substring("polybus.".length(), dot));
  }
}
