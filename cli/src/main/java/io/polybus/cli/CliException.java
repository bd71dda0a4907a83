package io.polybus.cli;

/**
 * A failure the tool itself detected, with the exit status it stands for and a one-line message
 * meant for the user (never a secret).
 *
 * <p>Immutable; thread-safe.
 */
public final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  /**
   * @param exitCode one of {@link ExitCode}
   * @param message one line naming what is wrong
   */
  public CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  /** One of {@link ExitCode}. */
  public int exitCode() {
    return exitCode;
  }
}
