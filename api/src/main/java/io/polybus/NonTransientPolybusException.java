package io.polybus;

/**
 * A failure that repeats until something is changed: configuration, credentials, the data itself.
 */
public class NonTransientPolybusException extends PolybusException {
  private static final long serialVersionUID = 1L;

  public NonTransientPolybusException(String message) {
    super(message);
  }

  public NonTransientPolybusException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public final boolean isTransient() {
    return false;
  }
}
