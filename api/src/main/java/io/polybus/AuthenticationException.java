package io.polybus;

/** The broker rejected the credentials or the permissions are missing. */
public class AuthenticationException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message);
  }

  public AuthenticationException(String message, Throwable cause) {
    super(message, cause);
  }
}
