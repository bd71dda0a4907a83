/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import io.polybus.ConfigurationException;
import io.polybus.StartFrom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Reads listener settings written as text, the same way on annotations and in properties. */
public final class ListenerValues {
  private ListenerValues() {}

  /**
   * {@code latest}, {@code earliest}, {@code offset:<n>} or an ISO-8601 instant.
   *
   * @throws ConfigurationException naming the value when it is none of these
   */
  public static StartFrom startFrom(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    if (t.equals("latest")) {
      return StartFrom.LATEST;
    }
    if (t.equals("earliest")) {
      return StartFrom.EARLIEST;
    }
    try {
      if (t.startsWith("offset:")) {
        return StartFrom.offset(Long.parseLong(t.substring("offset:".length())));
      }
      return StartFrom.timestamp(Instant.parse(text.strip()));
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new ConfigurationException(
          "start-from '"
              + text
              + "' is not latest, earliest, offset:<n> or an ISO-8601 instant (2026-01-01T00:00:00Z)");
    }
  }
}
