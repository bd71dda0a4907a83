package io.polybus;

/**
 * A URI, option or setting is malformed, unknown or names a backend that is not on the class path.
 */
public class ConfigurationException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  public ConfigurationException(String message) {
    super(message);
  }

  public ConfigurationException(String message, Throwable cause) {
    super(message, cause);
  }
}
