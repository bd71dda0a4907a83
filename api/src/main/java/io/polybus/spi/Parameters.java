package io.polybus.spi;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a backend's URI parameters with clear errors, and rejects the ones nobody read.
 *
 * <p>Not thread-safe; use one per {@link BackendProvider#open} call:
 *
 * <pre>{@code
 * Parameters p = Parameters.of(options);
 * int partitions = p.intValue("partitions", 4, 1, 10_000);
 * Duration linger = p.duration("linger", Duration.ofMillis(5));
 * p.requireAllRead(); // unknown parameter -> ConfigurationException naming it and the known ones
 * }</pre>
 *
 * Error messages show the redacted URI, never a secret value.
 *
 * <p>A backend that declares its parameters ({@link Parameter}, {@link
 * BackendProvider#parameters()}) reads them with {@link #get(Parameter)} from {@link
 * #of(PolybusOptions, List)}: then the unknown-parameter error lists every declared name, even one
 * this open did not read, and reading an undeclared one is a bug that fails at once.
 */
public final class Parameters {
  private final PolybusOptions options;
  private final Set<String> known = new LinkedHashSet<>();
  private final Map<String, Parameter<?>> declared = new LinkedHashMap<>();
  private final Set<String> secret = new HashSet<>();

  private Parameters(PolybusOptions options) {
    this.options = options;
  }

  public static Parameters of(PolybusOptions options) {
    return new Parameters(java.util.Objects.requireNonNull(options, "options"));
  }

  /**
   * Reads {@code options} against the backend's declarations: {@link #requireAllRead()} lists all
   * of them as accepted, and {@link #get(Parameter)} refuses one not among them.
   *
   * @throws IllegalArgumentException when a name is declared twice, or reads as a secret but is not
   *     declared {@link Parameter#secret()} (both are bugs of the backend)
   */
  public static Parameters of(PolybusOptions options, List<Parameter<?>> declarations) {
    Parameters p = of(options);
    for (Parameter<?> d : declarations) {
      if (p.declared.putIfAbsent(d.name(), d) != null) {
        throw new IllegalArgumentException("parameter '" + d.name() + "' is declared twice");
      }
      if (d.isSecret() != PolybusOptions.isSecretName(d.name())) {
        // PolybusOptions redacts the URI by name before any backend is chosen, so the flag and the
        // name must agree.
        throw new IllegalArgumentException(
            "parameter '"
                + d.name()
                + "': its name reads as a secret"
                + " (PolybusOptions.isSecretName); declare it with secret()");
      }
      if (d.isSecret()) {
        p.secret.add(d.name());
      }
    }
    return p;
  }

  /**
   * The value of {@code parameter}, or its default when absent, read by the getter of its {@link
   * Parameter.Kind} with the same bounds and errors.
   *
   * @throws IllegalArgumentException when this reader was made from declarations that do not
   *     include it (a bug)
   */
  @SuppressWarnings("unchecked")
  public <T> T get(Parameter<T> parameter) {
    String name = parameter.name();
    if (!declared.isEmpty() && declared.get(name) != parameter) {
      throw new IllegalArgumentException(
          "parameter '" + name + "' is not among the declared " + declared.keySet());
    }
    if (parameter.isSecret()) {
      secret.add(name);
    }
    Object d =
        parameter.defaultValue(); // only STRING and CHOICE may have none; the other factories take
    // primitives
    Object v =
        switch (parameter.kind()) {
          case STRING -> string(name, (String) d);
          case INT ->
              intValue(name, (Integer) d, (Integer) parameter.min(), (Integer) parameter.max());
          case LONG -> longValue(name, (Long) d, (Long) parameter.min(), (Long) parameter.max());
          case BOOL -> bool(name, (Boolean) d);
          case CHOICE -> choice(name, (String) d, parameter.choices().toArray(new String[0]));
          case DURATION ->
              duration(name, (Duration) d, (Duration) parameter.min(), (Duration) parameter.max());
          case BYTES -> bytes(name, (Long) d, (Long) parameter.min(), (Long) parameter.max());
        };
    return (T) v;
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
      int i = Integer.parseInt(ascii(v.trim()));
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
      long i = Long.parseLong(ascii(v.trim()));
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
   * The longest duration {@link #duration(String, Duration)} accepts: 100 years, so any use in
   * nanoseconds fits.
   */
  public static final Duration MAX_DURATION = Duration.ofDays(36_500);

  /**
   * A duration written as a number with a unit ({@code 250ms}, {@code 5s}, {@code 2m}, {@code 1h},
   * {@code 7d}) or as ISO-8601 ({@code PT5S}); a bare number is milliseconds. Between zero and
   * {@link #MAX_DURATION}.
   */
  public Duration duration(String name, Duration defaultValue) {
    return duration(name, defaultValue, Duration.ZERO, MAX_DURATION);
  }

  /**
   * A duration as {@link #duration(String, Duration)} reads it, between {@code min} and {@code
   * max}.
   */
  public Duration duration(String name, Duration defaultValue, Duration min, Duration max) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    Duration d = parseDuration(v.trim());
    String range = "a duration between " + show(min) + " and " + show(max);
    if (d == null) {
      throw fail(name, v, range + ", such as 250ms, 5s, 2m, 1h, 7d or PT5S");
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      throw fail(name, v, range);
    }
    return d;
  }

  /** {@code d} in the unit syntax this class reads, in the largest unit that shows it exactly. */
  static String show(Duration d) {
    if (d.isZero()) {
      return "0";
    }
    if (d.getNano() == 0 && d.getSeconds() % 86_400 == 0) {
      return d.toDays() + "d";
    }
    if (d.getNano() == 0 && d.getSeconds() % 3600 == 0) {
      return d.toHours() + "h";
    }
    if (d.getNano() == 0 && d.getSeconds() % 60 == 0) {
      return d.toMinutes() + "m";
    }
    if (d.getNano() == 0) {
      return d.getSeconds() + "s";
    }
    return d.getNano() % 1_000_000 == 0 && d.getSeconds() < Long.MAX_VALUE / 1000
        ? d.toMillis() + "ms"
        : d.toString();
  }

  /**
   * Fails with a {@link ConfigurationException} naming every native setting given ({@code
   * polybus.<scheme>.<name>}), for a backend whose client takes none: a setting nobody reads must
   * not pass silently.
   */
  public void rejectNativeSettings() {
    if (!options.nativeSettings().isEmpty()) {
      List<String> names = new ArrayList<>();
      for (String n : options.nativeSettings().keySet()) {
        names.add("polybus." + options.scheme() + "." + n);
      }
      throw new ConfigurationException(
          "unknown native setting"
              + (names.size() > 1 ? "s " : " ")
              + names
              + " for '"
              + options.redacted()
              + "': the "
              + options.scheme()
              + " backend takes no native settings; give its"
              + " settings as URI parameters (docs/uris.md)");
    }
  }

  /**
   * A size in bytes written as a number with an optional unit: {@code 512}, {@code 64k}, {@code
   * 16m}, {@code 1g}.
   */
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
      long n = Math.multiplyExact(Long.parseLong(ascii(t)), mult);
      if (n < min || n > max) {
        throw fail(name, v, "a size between " + min + " and " + max + " bytes");
      }
      return n;
    } catch (NumberFormatException | ArithmeticException e) {
      throw fail(name, v, "a size such as 512, 64k, 16m or 1g");
    }
  }

  /**
   * Fails with a {@link ConfigurationException} naming every parameter of the URI that no getter
   * asked for, and listing the known ones.
   */
  public void requireAllRead() {
    List<String> unknown = new ArrayList<>();
    Set<String> accepted = new LinkedHashSet<>(declared.keySet());
    accepted.addAll(known);
    for (String name : options.parameters().keySet()) {
      if (!accepted.contains(name)) {
        unknown.add(name);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ConfigurationException(
          "unknown parameter"
              + (unknown.size() > 1 ? "s " : " ")
              + unknown
              + " in '"
              + options.redacted()
              + "'; the "
              + options.scheme()
              + " backend accepts "
              + accepted);
    }
  }

  private ConfigurationException fail(String name, String value, String expected) {
    String shown = secret.contains(name) || PolybusOptions.isSecretName(name) ? "****" : value;
    return new ConfigurationException(
        "parameter '"
            + name
            + "' in '"
            + options.redacted()
            + "' must be "
            + expected
            + ", was '"
            + shown
            + "'");
  }

  /**
   * The duration {@code v} stands for, or null when it is not one (or is too large for a {@link
   * Duration}).
   */
  static Duration parseDuration(String v) {
    try {
      if (v.startsWith("P") || v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      String t = v.toLowerCase(Locale.ROOT);
      if (t.endsWith("ms")) {
        return Duration.ofMillis(number(t, 2));
      }
      if (t.endsWith("us")) {
        return Duration.ofNanos(Math.multiplyExact(number(t, 2), 1000L));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(number(t, 1));
      }
      if (t.endsWith("m")) {
        return Duration.ofMinutes(number(t, 1));
      }
      if (t.endsWith("h")) {
        return Duration.ofHours(number(t, 1));
      }
      if (t.endsWith("d")) {
        return Duration.ofDays(number(t, 1));
      }
      return Duration.ofMillis(number(t, 0));
    } catch (NumberFormatException | DateTimeParseException | ArithmeticException e) {
      return null;
    }
  }

  private static long number(String t, int unitLength) {
    return Long.parseLong(ascii(t.substring(0, t.length() - unitLength)));
  }

  /**
   * {@code s} when it holds only ASCII characters. {@link Long#parseLong} also takes other scripts'
   * digits (a full-width {@code ８} is 8), which a configuration file should not depend on.
   */
  private static String ascii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 127) {
        throw new NumberFormatException("not ASCII: " + s);
      }
    }
    return s;
  }
}
