package io.polybus.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, a plain number of seconds, or ISO-8601
 * ({@code PT5S}).
 *
 * <p>Stateless; thread-safe.
 */
public final class Durations implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  /** Parses {@code value}; throws picocli's conversion exception (exit {@link ExitCode#USAGE}). */
  public static Duration parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    try {
      if (v.startsWith("pt") || v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(Locale.ROOT));
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      long n;
      switch (v.charAt(v.length() - 1)) {
        case 's':
          n = Long.parseLong(v.substring(0, v.length() - 1));
          return Duration.ofSeconds(n);
        case 'm':
          n = Long.parseLong(v.substring(0, v.length() - 1));
          return Duration.ofMinutes(n);
        case 'h':
          n = Long.parseLong(v.substring(0, v.length() - 1));
          return Duration.ofHours(n);
        default:
          return Duration.ofSeconds(Long.parseLong(v));
      }
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration (examples: 500ms, 5s, 2m, PT1M)");
    }
  }

  /** Short human form: {@code 1.23 ms}, {@code 4.5 s}. */
  public static String human(Duration d) {
    long micros = d.toNanos() / 1000;
    if (micros < 1000) {
      return micros + " µs";
    }
    if (micros < 1_000_000) {
      return String.format(Locale.ROOT, "%.2f ms", micros / 1000.0);
    }
    return String.format(Locale.ROOT, "%.2f s", micros / 1_000_000.0);
  }
}
