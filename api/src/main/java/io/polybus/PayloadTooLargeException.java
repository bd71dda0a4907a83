package io.polybus;

/**
 * A message is larger than the backend accepts, or has more headers than it can carry (see
 * Capabilities); nothing of the batch was published.
 */
public class PayloadTooLargeException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  public PayloadTooLargeException(String message) {
    super(message);
  }

  public PayloadTooLargeException(String message, Throwable cause) {
    super(message, cause);
  }
}
