package io.polybus;

import java.util.Objects;

/**
 * The result of actively checking a backend: a round trip to the broker, not a cached flag.
 *
 * @param up true when the round trip succeeded
 * @param detail what was checked and, when down, why (never credentials)
 */
public record Health(boolean up, String detail) {
  public Health {
    Objects.requireNonNull(detail, "detail");
  }

  public static Health up(String detail) {
    return new Health(true, detail);
  }

  public static Health down(String detail) {
    return new Health(false, detail);
  }
}
