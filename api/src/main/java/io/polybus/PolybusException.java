package io.polybus;

/**
 * The root of every failure Polybus reports about the outside world: brokers, configuration,
 * payloads.
 *
 * <p>Branch on {@link TransientPolybusException} (retrying the same operation later may succeed)
 * versus {@link NonTransientPolybusException} (it will not, until something is changed). Misuse of
 * the API itself (a {@code null} argument, an invalid name, a closed bus) is reported with the
 * JDK's {@link NullPointerException}, {@link IllegalArgumentException} and {@link
 * IllegalStateException} instead.
 */
public abstract class PolybusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  protected PolybusException(String message) {
    super(message);
  }

  protected PolybusException(String message, Throwable cause) {
    super(message, cause);
  }

  /** True when retrying the failed operation later may succeed. */
  public abstract boolean isTransient();
}
