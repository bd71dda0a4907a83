package io.polybus.spi;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads a backend's URI parameters with clear errors, and rejects the ones nobody read.
 *
 * <p>Not thread-safe; use one per {@link BackendProvider#open} call:
 * <pre>{@code
 * Parameters p = Parameters.of(options);
 * int partitions = p.intValue("partitions", 4, 1, 10_000);
 * Duration linger = p.duration("linger", Duration.ofMillis(5));
 * p.requireAllRead(); // unknown parameter -> ConfigurationException naming it and the known ones
 * }</pre>
 * Error messages show the redacted URI, never a secret value.
 */
public final class Parameters {
  private final PolybusOptions options;
  private final Set<String> known = new LinkedHashSet<>();

  private Parameters(PolybusOptions options) {
    this.options = options;
  }

  public static Parameters of(PolybusOptions options) {
    return new Parameters(java.util.Objects.requireNonNull(options, "options"));
  }

  /** The raw value, or {@code defaultValue} when absent. */
  public String string(String name, String defaultValue) {
    known.add(name);
    return options.parameters().getOrDefault(name, defaultValue);
  }

  public int intValue(String name, int defaultValue, int min, int max) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    try {
      int i = Integer.parseInt(v.trim());
      if (i < min || i > max) {
        throw fail(name, v, "an integer between " + min + " and " + max);
      }
      return i;
    } catch (NumberFormatException e) {
      throw fail(name, v, "an integer between " + min + " and " + max);
    }
  }

  public long longValue(String name, long defaultValue, long min, long max) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    try {
      long i = Long.parseLong(v.trim());
      if (i < min || i > max) {
        throw fail(name, v, "an integer between " + min + " and " + max);
      }
      return i;
    } catch (NumberFormatException e) {
      throw fail(name, v, "an integer between " + min + " and " + max);
    }
  }

  public boolean bool(String name, boolean defaultValue) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true":
      case "yes":
      case "1":
        return true;
      case "false":
      case "no":
      case "0":
        return false;
      default:
        throw fail(name, v, "true or false");
    }
  }

  /** One of {@code allowed}, compared case-insensitively; returned lower-case. */
  public String choice(String name, String defaultValue, String... allowed) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    String lower = v.trim().toLowerCase(Locale.ROOT);
    for (String a : allowed) {
      if (a.equals(lower)) {
        return a;
      }
    }
    throw fail(name, v, "one of " + List.of(allowed));
  }

  /**
   * A duration written as a number with a unit ({@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 7d}) or as ISO-8601
   * ({@code PT5S}); a bare number is milliseconds.
   */
  public Duration duration(String name, Duration defaultValue) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    Duration d = parseDuration(v.trim());
    if (d == null || d.isNegative()) {
      throw fail(name, v, "a duration such as 250ms, 5s, 2m, 1h, 7d or PT5S");
    }
    return d;
  }

  /** A size in bytes written as a number with an optional unit: {@code 512}, {@code 64k}, {@code 16m}, {@code 1g}. */
  public long bytes(String name, long defaultValue, long min, long max) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    String t = v.trim().toLowerCase(Locale.ROOT);
    long mult = 1;
    if (t.endsWith("b")) {
      t = t.substring(0, t.length() - 1);
    }
    if (t.endsWith("k")) {
      mult = 1L << 10;
    } else if (t.endsWith("m")) {
      mult = 1L << 20;
    } else if (t.endsWith("g")) {
      mult = 1L << 30;
    }
    if (mult != 1) {
      t = t.substring(0, t.length() - 1);
    }
    try {
      long n = Math.multiplyExact(Long.parseLong(t), mult);
      if (n < min || n > max) {
        throw fail(name, v, "a size between " + min + " and " + max + " bytes");
      }
      return n;
    } catch (NumberFormatException | ArithmeticException e) {
      throw fail(name, v, "a size such as 512, 64k, 16m or 1g");
    }
  }

  /**
   * Fails with a {@link ConfigurationException} naming every parameter of the URI that no getter asked for, and
   * listing the known ones.
   */
  public void requireAllRead() {
    List<String> unknown = new ArrayList<>();
    for (String name : options.parameters().keySet()) {
      if (!known.contains(name)) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ConfigurationException("unknown parameter" + (unknown.size() > 1 ? "s " : " ") + unknown
          + " in '" + options.redacted() + "'; the " + options.scheme() + " backend accepts " + known);
    }
  }

  private ConfigurationException fail(String name, String value, String expected) {
    String shown = PolybusOptions.isSecretName(name) ? "****" : value;
    return new ConfigurationException("parameter '" + name + "' in '" + options.redacted() + "' must be "
        + expected + ", was '" + shown + "'");
  }

  static Duration parseDuration(String v) {
    try {
      if (v.startsWith("P") || v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      String t = v.toLowerCase(Locale.ROOT);
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("us")) {
        return Duration.ofNanos(Long.parseLong(t.substring(0, t.length() - 2)) * 1000);
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      if (t.endsWith("d")) {
        return Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      return Duration.ofMillis(Long.parseLong(t));
    } catch (NumberFormatException | DateTimeParseException e) {
      return null;
    }
  }
}
