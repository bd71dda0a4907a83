package io.polybus;

/** The topic does not exist and the backend is configured not to create it. */
public class UnknownTopicException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  public UnknownTopicException(String message) {
    super(message);
  }

  public UnknownTopicException(String message, Throwable cause) {
    super(message, cause);
  }
}
