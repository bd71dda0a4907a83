package io.polybus.cli;

import io.polybus.Capabilities;
import io.polybus.StartFrom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * {@code --from}: {@code earliest}, {@code latest}, an ISO-8601 instant or an offset, checked
 * against the backend's capabilities before subscribing so that the user reads which capability is
 * missing. It applies only to a new group: an existing group resumes where it left off.
 *
 * <p>Stateless; thread-safe.
 */
final class StartPosition {
  private StartPosition() {}

  static StartFrom parse(String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    if (v.equals("earliest")) {
      return StartFrom.EARLIEST;
    }
    if (v.equals("latest")) {
      return StartFrom.LATEST;
    }
    if (v.chars().allMatch(Character::isDigit) && !v.isEmpty()) {
      return StartFrom.offset(Long.parseLong(v));
    }
    try {
      return StartFrom.timestamp(Instant.parse(value.strip()));
    } catch (DateTimeParseException e) {
      throw new CliException(
          ExitCode.USAGE,
          "--from '"
              + value
              + "' is not earliest, latest, an offset or an ISO-8601 instant"
              + " (2025-01-31T12:00:00Z)");
    }
  }

  static void check(StartFrom from, Capabilities caps, String scheme) {
    String missing =
        switch (from.kind()) {
          case LATEST -> null;
          case EARLIEST -> caps.replay() ? null : "replay";
          case TIMESTAMP -> caps.replayFromTimestamp() ? null : "replayFromTimestamp";
          case OFFSET -> caps.replayFromOffset() ? null : "replayFromOffset";
        };
    if (missing != null) {
      throw new CliException(
          ExitCode.UNSUPPORTED,
          "the "
              + scheme
              + " backend cannot start a group from "
              + from
              + " (it lacks the capability "
              + missing
              + ")");
    }
  }
}
