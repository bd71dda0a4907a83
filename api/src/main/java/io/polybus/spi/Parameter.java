package io.polybus.spi;

import io.polybus.PolybusOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One URI parameter of a backend, declared once: its name, kind, default, bounds, whether it is a
 * secret, and one line of documentation. A backend reads it with {@link Parameters#get(Parameter)}
 * and lists its declarations in {@link BackendProvider#parameters()}, so the same declaration
 * drives parsing, the error that lists the accepted parameters, redaction, and the test that checks
 * {@code docs/uris.md}.
 *
 * <pre>{@code
 * static final Parameter<Integer> PARTITIONS =
 *     Parameter.intValue("partitions", 4, 1, 1024, "partitions of a topic this bus creates");
 * ...
 * int partitions = Parameters.of(options, PARAMETERS).get(PARTITIONS);
 * }</pre>
 *
 * <p>Immutable and thread-safe; declare them as {@code static final} constants.
 *
 * @param <T> the Java type {@link Parameters#get} returns
 */
public final class Parameter<T> {
  /**
   * How the value is written and read; each kind is read by the {@link Parameters} getter of the
   * same name.
   */
  public enum Kind {
    STRING,
    INT,
    LONG,
    BOOL,
    CHOICE,
    DURATION,
    BYTES
  }

  private final String name;
  private final Kind kind;
  private final T defaultValue;
  private final T min;
  private final T max;
  private final List<String> choices;
  private final boolean secret;
  private final String doc;
  private final String defaultShownAs;

  private Parameter(
      String name,
      Kind kind,
      T defaultValue,
      T min,
      T max,
      List<String> choices,
      boolean secret,
      String doc,
      String defaultShownAs) {
    this.name = Objects.requireNonNull(name, "name");
    this.kind = kind;
    this.defaultValue = defaultValue;
    this.min = min;
    this.max = max;
    this.choices = choices;
    this.secret = secret;
    this.doc = Objects.requireNonNull(doc, "doc");
    this.defaultShownAs = defaultShownAs;
  }

  /** A string, or {@code defaultValue} (may be null: no default) when absent. */
  public static Parameter<String> string(String name, String defaultValue, String doc) {
    return new Parameter<>(
        name, Kind.STRING, defaultValue, null, null, List.of(), false, doc, null);
  }

  /** An integer between {@code min} and {@code max}. */
  public static Parameter<Integer> intValue(
      String name, int defaultValue, int min, int max, String doc) {
    return new Parameter<>(name, Kind.INT, defaultValue, min, max, List.of(), false, doc, null);
  }

  /** A long between {@code min} and {@code max}. */
  public static Parameter<Long> longValue(
      String name, long defaultValue, long min, long max, String doc) {
    return new Parameter<>(name, Kind.LONG, defaultValue, min, max, List.of(), false, doc, null);
  }

  /** {@code true}/{@code yes}/{@code 1} or {@code false}/{@code no}/{@code 0}. */
  public static Parameter<Boolean> bool(String name, boolean defaultValue, String doc) {
    return new Parameter<>(name, Kind.BOOL, defaultValue, null, null, List.of(), false, doc, null);
  }

  /** One of {@code allowed} (lower-case), compared case-insensitively. */
  public static Parameter<String> choice(
      String name, String defaultValue, String doc, String... allowed) {
    List<String> list = List.of(allowed);
    if (defaultValue != null && !list.contains(defaultValue)) {
      throw new IllegalArgumentException(
          "parameter '" + name + "': default " + defaultValue + " not in " + list);
    }
    return new Parameter<>(name, Kind.CHOICE, defaultValue, null, null, list, false, doc, null);
  }

  /** A duration between zero and {@link Parameters#MAX_DURATION}. */
  public static Parameter<Duration> duration(String name, Duration defaultValue, String doc) {
    return duration(name, defaultValue, Duration.ZERO, Parameters.MAX_DURATION, doc);
  }

  /** A duration between {@code min} and {@code max}. */
  public static Parameter<Duration> duration(
      String name, Duration defaultValue, Duration min, Duration max, String doc) {
    return new Parameter<>(
        name,
        Kind.DURATION,
        defaultValue,
        Objects.requireNonNull(min, "min"),
        Objects.requireNonNull(max, "max"),
        List.of(),
        false,
        doc,
        null);
  }

  /**
   * A size in bytes ({@code 512}, {@code 64k}, {@code 16m}, {@code 1g}) between {@code min} and
   * {@code max}.
   */
  public static Parameter<Long> bytes(
      String name, long defaultValue, long min, long max, String doc) {
    return new Parameter<>(name, Kind.BYTES, defaultValue, min, max, List.of(), false, doc, null);
  }

  /**
   * This parameter marked secret: its value never shows in an error message. The name must read as
   * a secret to {@link PolybusOptions#isSecretName} too, since the URI is redacted by name; and a
   * parameter whose name reads as a secret must be declared with this ({@link
   * Parameters#of(PolybusOptions, List)} checks).
   */
  public Parameter<T> secret() {
    if (!PolybusOptions.isSecretName(name)) {
      throw new IllegalArgumentException(
          "parameter '"
              + name
              + "': a secret's name must mention password, secret,"
              + " token, credential, jaas or private, or the URI would print it (PolybusOptions.isSecretName)");
    }
    return new Parameter<>(name, kind, defaultValue, min, max, choices, true, doc, defaultShownAs);
  }

  /**
   * This parameter with the words the docs use for its default when the value itself reads badly
   * there (a {@code retention} of zero is "keep").
   */
  public Parameter<T> defaultShownAs(String words) {
    return new Parameter<>(
        name,
        kind,
        defaultValue,
        min,
        max,
        choices,
        secret,
        doc,
        Objects.requireNonNull(words, "words"));
  }

  public String name() {
    return name;
  }

  public Kind kind() {
    return kind;
  }

  /** The value when the URI does not give one; null when there is none. */
  public T defaultValue() {
    return defaultValue;
  }

  /** The smallest accepted value, or null for kinds without bounds. */
  public T min() {
    return min;
  }

  /** The largest accepted value, or null for kinds without bounds. */
  public T max() {
    return max;
  }

  /** The accepted values of a {@link Kind#CHOICE}; empty for other kinds. */
  public List<String> choices() {
    return choices;
  }

  public boolean isSecret() {
    return secret;
  }

  /** One line for humans. */
  public String doc() {
    return doc;
  }

  /**
   * The ways a document may write the default, most natural first ({@code 16m}, {@code 16 MiB},
   * {@code 16777216}); empty when there is no default.
   */
  public List<String> defaultSpellings() {
    List<String> out = new ArrayList<>();
    if (defaultShownAs != null) {
      out.add(defaultShownAs);
    }
    if (defaultValue == null) {
      return out;
    }
    switch (kind) {
      case DURATION -> out.add(Parameters.show((Duration) defaultValue));
      case BYTES -> {
        long b = (Long) defaultValue;
        String[] units = {"g", "GiB", "m", "MiB", "k", "KiB"};
        int[] shifts = {30, 30, 20, 20, 10, 10};
        for (int i = 0; i < units.length; i += 2) {
          long unit = 1L << shifts[i];
          if (b != 0 && b % unit == 0) {
            out.add(b / unit + units[i]);
            out.add(b / unit + " " + units[i + 1]);
            break; // the largest unit only
          }
        }
        out.add(Long.toString(b));
      }
      default -> out.add(String.valueOf(defaultValue));
    }
    return out;
  }

  @Override
  public String toString() {
    return name
        + " ("
        + kind.name().toLowerCase(java.util.Locale.ROOT)
        + (defaultValue == null ? "" : ", default " + (secret ? "****" : defaultSpellings().get(0)))
        + ")";
  }
}
