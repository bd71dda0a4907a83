package io.polybus;

/**
 * A value could not be encoded, or a payload could not be decoded into the expected type. A decode
 * failure in a typed subscription is never retried: the message is dead-lettered with this error as
 * its reason.
 */
public class CodecException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  public CodecException(String message) {
    super(message);
  }

  public CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
