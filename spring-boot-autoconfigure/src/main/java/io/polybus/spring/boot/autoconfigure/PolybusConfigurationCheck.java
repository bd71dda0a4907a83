/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.autoconfigure;

import io.polybus.ConfigurationException;
import io.polybus.spring.boot.Nearest;
import java.beans.Introspector;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;

/**
 * Fails startup on a {@code polybus.*} key that means nothing: a misspelt key would otherwise be
 * ignored and its setting silently lost. Valid keys are the fields of {@link PolybusProperties}
 * (derived from the class, so the check cannot drift from it) and the native settings {@code
 * polybus.<scheme>.<setting>} of a known backend scheme. Names are compared in Spring's relaxed
 * form, so {@code maxInFlight}, {@code max-in-flight} and {@code POLYBUS_..._MAX_IN_FLIGHT} all
 * count.
 */
final class PolybusConfigurationCheck {
  private static final ConfigurationPropertyName ROOT = ConfigurationPropertyName.of("polybus");
  private static final String ANY = "<id>";

  private final List<String> templates;
  private final Set<String> schemes;

  PolybusConfigurationCheck(Set<String> schemes) {
    this.schemes = schemes;
    List<String> t = new ArrayList<>();
    collect(PolybusProperties.class, "polybus", t);
    this.templates = List.copyOf(t);
  }

  /** The valid keys, dashed, with {@code <id>} for a map key; for messages and tests. */
  List<String> templates() {
    return templates;
  }

  /**
   * Checks every {@code polybus.*} name of the environment.
   *
   * @throws ConfigurationException naming the first unknown key, where it came from and the nearest
   *     valid key
   */
  void check(Environment env) {
    Set<String> unknown = new TreeSet<>();
    String first = null;
    for (ConfigurationPropertySource source : ConfigurationPropertySources.get(env)) {
      if (!(source instanceof IterableConfigurationPropertySource iterable)) {
        continue;
      }
      for (ConfigurationPropertyName name :
          (Iterable<ConfigurationPropertyName>) iterable::iterator) {
        if (!ROOT.isAncestorOf(name) || isValid(name)) {
          continue;
        }
        String key = name.toString();
        if (unknown.add(key) && first == null) {
          ConfigurationProperty p = source.getConfigurationProperty(name);
          first = key + (p != null && p.getOrigin() != null ? " (" + p.getOrigin() + ")" : "");
        }
      }
    }
    if (unknown.isEmpty()) {
      return;
    }
    String key = unknown.iterator().next();
    throw new ConfigurationException(
        "unknown configuration key '"
            + key
            + "'"
            + (first != null && first.startsWith(key + " ") ? first.substring(key.length()) : "")
            + ": did you mean '"
            + nearest(key)
            + "'?"
            + (unknown.size() > 1 ? " Other unknown keys: " + unknown : "")
            + " Polybus keys are "
            + templates
            + " and polybus.<scheme>.<native setting> for the schemes "
            + schemes);
  }

  private boolean isValid(ConfigurationPropertyName name) {
    if (name.getNumberOfElements() >= 3
        && schemes.contains(name.getElement(1, ConfigurationPropertyName.Form.UNIFORM))) {
      return true;
    }
    for (String t : templates) {
      if (matches(t, name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(String template, ConfigurationPropertyName name) {
    String[] parts = template.split("\\.");
    if (parts.length != name.getNumberOfElements()) {
      return false;
    }
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].equals(ANY)) {
        continue;
      }
      if (!uniform(parts[i]).equals(name.getElement(i, ConfigurationPropertyName.Form.UNIFORM))) {
        return false;
      }
    }
    return true;
  }

  private String nearest(String key) {
    String[] given = key.split("\\.");
    List<String> candidates = new ArrayList<>();
    for (String t : templates) {
      String[] parts = t.split("\\.");
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < parts.length; i++) {
        b.append(i == 0 ? "" : ".")
            .append(parts[i].equals(ANY) && i < given.length ? given[i] : parts[i]);
      }
      candidates.add(b.toString());
    }
    return Nearest.to(key, candidates);
  }

  private static String uniform(String dashed) {
    return dashed.replace("-", "").toLowerCase(Locale.ROOT);
  }

  /** Walks the getters of a properties class: nested classes recursed, maps as {@code <id>}. */
  private static void collect(Class<?> type, String prefix, List<String> out) {
    for (Method m : type.getMethods()) {
      if (m.getDeclaringClass() == Object.class
          || m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      String n = m.getName();
      String property;
      if (n.startsWith("get") && n.length() > 3) {
        property = Introspector.decapitalize(n.substring(3));
      } else if (n.startsWith("is") && n.length() > 2 && m.getReturnType() == boolean.class) {
        property = Introspector.decapitalize(n.substring(2));
      } else {
        continue;
      }
      String key = prefix + "." + dashed(property);
      Class<?> r = m.getReturnType();
      if (Map.class.isAssignableFrom(r)) {
        Class<?> value =
            (Class<?>) ((ParameterizedType) m.getGenericReturnType()).getActualTypeArguments()[1];
        collect(value, key + "." + ANY, out);
      } else if (r.getDeclaringClass() == PolybusProperties.class) {
        collect(r, key, out);
      } else {
        out.add(key);
      }
    }
    out.sort(null);
  }

  private static String dashed(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
  }
}
