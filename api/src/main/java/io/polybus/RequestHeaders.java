package io.polybus;

import java.util.List;

/**
 * The headers request-reply adds (all with the reserved prefix {@code polybus-}, so applications
 * cannot set them by accident). A request carries {@link #REPLY_TO} and {@link #CORRELATION_ID};
 * its reply carries the same {@link #CORRELATION_ID}, and a failure reply also {@link #ERROR_CLASS}
 * and {@link #ERROR_MESSAGE}. Constants only.
 */
public final class RequestHeaders {
  /** The topic the requester reads its replies from. */
  public static final String REPLY_TO = "polybus-reply-to";

  /** Names the request a reply answers; unique per request. */
  public static final String CORRELATION_ID = "polybus-correlation-id";

  /** On a failure reply: the class name of what the responder threw. */
  public static final String ERROR_CLASS = "polybus-reply-error-class";

  /** On a failure reply: its message (may be empty). */
  public static final String ERROR_MESSAGE = "polybus-reply-error-message";

  /** Every header above, in order. */
  public static final List<String> ALL =
      List.of(REPLY_TO, CORRELATION_ID, ERROR_CLASS, ERROR_MESSAGE);

  private RequestHeaders() {}
}
