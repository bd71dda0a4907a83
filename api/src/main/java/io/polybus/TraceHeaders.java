package io.polybus;

import java.util.List;

/**
 * The W3C Trace Context and Baggage headers an {@link Instrumentation} carries in message headers.
 * Every backend keeps them like any other header, from the publish to every delivery attempt, into
 * the dead-letter record and through a redrive. Each is set at most once per message (headers are a
 * map), so they never pile up across retries or redrives.
 */
public final class TraceHeaders {
  /** {@code traceparent}: version, trace id, parent span id and flags. */
  public static final String TRACEPARENT = "traceparent";

  /** {@code tracestate}: vendor-specific trace data. */
  public static final String TRACESTATE = "tracestate";

  /** {@code baggage}: application key-value pairs carried along the trace. */
  public static final String BAGGAGE = "baggage";

  /** Every header above. */
  public static final List<String> ALL = List.of(TRACEPARENT, TRACESTATE, BAGGAGE);

  private TraceHeaders() {}
}
