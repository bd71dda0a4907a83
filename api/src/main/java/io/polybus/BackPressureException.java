package io.polybus;

/** The backend refused work because a buffer or quota is full; slow down and try again. */
public class BackPressureException extends TransientPolybusException {
  private static final long serialVersionUID = 1L;

  public BackPressureException(String message) {
    super(message);
  }

  public BackPressureException(String message, Throwable cause) {
    super(message, cause);
  }
}
