package io.polybus.tck.selftest;

import io.polybus.ConfigurationException;
import java.util.Arrays;
import java.util.Locale;

/**
 * One deliberate defect of {@link BrokenBackendProvider}, chosen by the path of a {@code broken:}
 * URI.
 */
enum Flaw {
  /** No defect: the wrapper passes everything through, proving that it alone breaks nothing. */
  NONE,
  /** Every 100th delivery is acked behind the runtime's back and never handed to it. */
  DROP,
  /**
   * Every 10th delivery is handed to the runtime a second time (in the next poll); the copy settles
   * nothing.
   */
  DUPLICATE,
  /** Adjacent records of the same key in one poll batch are swapped. */
  REORDER,
  /** {@code deliveryCount()} is always 1, so natively released retries never reach maxAttempts. */
  IGNORE_MAX_ATTEMPTS,
  /** Dead letters are published without any header, neither the original ones nor Polybus's. */
  DLQ_LOSES_HEADERS,
  /** {@code ack()} is turned into a {@code release(0)} 50 ms later, so acked messages come back. */
  REDELIVER_ACKED,
  /** {@code poll(max)} asks the real consumer for 512 records whatever {@code max} is. */
  EXCEED_IN_FLIGHT,
  /**
   * A group asked to start from a timestamp or an offset starts from the earliest message instead.
   */
  REPLAY_FROM_EARLIEST,
  /**
   * A publish fails for a message whose id or a header name is over 100 UTF-8 bytes, as on a broker
   * with narrower limits than the portable ones that the backend does not map.
   */
  NARROW_LIMITS,
  /**
   * {@code markNotHandled()} is ignored, so a delivery a closing member gave back without a handler
   * having started it counts as an attempt.
   */
  COUNT_UNHANDLED,
  /**
   * Publishes drop the trace headers ({@code traceparent}, {@code tracestate}, {@code baggage}).
   */
  DROP_TRACE_HEADERS,
  /** A group's lag counts one message too many whenever it is not 0. */
  MISCOUNT_LAG,
  /**
   * Once a record of a poll batch is given back for a retry (released, or its attempt noted for an
   * in-place retry), acks of the other records of that batch become {@code release(0)}: the
   * neighbours of a failed batch element come back.
   */
  REDELIVER_NEIGHBOURS,
  /**
   * A published reply carries the correlation id of the reply published before it (the first one an
   * id nobody asked for): replies reach the wrong requests.
   */
  CROSSED_REPLIES,
  /** Publishes drop the deliver-at header: delayed messages are delivered at once. */
  DELIVERS_EARLY,
  /**
   * A message published while an earlier delayed message of its key still waits is delayed until
   * that one's time: a delayed message holds back its key.
   */
  DELAY_HOLDS_KEY;

  /** The URI path naming this flaw, for example {@code ignore-max-attempts}. */
  String path() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  static Flaw of(String path) {
    for (Flaw f : values()) {
      if (f.path().equals(path)) {
        return f;
      }
    }
    throw new ConfigurationException(
        "unknown flaw '"
            + path
            + "' for the broken backend; known: "
            + Arrays.stream(values()).map(Flaw::path).toList());
  }
}
