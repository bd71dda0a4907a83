package io.polybus;

/**
 * A failure that may go away by itself: the broker is unreachable, an operation timed out,
 * back-pressure.
 */
public class TransientPolybusException extends PolybusException {
  private static final long serialVersionUID = 1L;

  public TransientPolybusException(String message) {
    super(message);
  }

  public TransientPolybusException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return true;
  }
}
