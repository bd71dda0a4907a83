package io.polybus;

/**
 * An operation did not complete within its bound (for example a publish the broker never
 * confirmed).
 */
public class PolybusTimeoutException extends TransientPolybusException {
  private static final long serialVersionUID = 1L;

  public PolybusTimeoutException(String message) {
    super(message);
  }

  public PolybusTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
