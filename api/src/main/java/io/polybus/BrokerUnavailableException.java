package io.polybus;

/** The broker cannot be reached or refused the connection; the operation may succeed later. */
public class BrokerUnavailableException extends TransientPolybusException {
  private static final long serialVersionUID = 1L;

  public BrokerUnavailableException(String message) {
    super(message);
  }

  public BrokerUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
