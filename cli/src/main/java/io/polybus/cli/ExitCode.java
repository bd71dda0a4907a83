package io.polybus.cli;

/**
 * The exit status of {@code polybus}, one per class of failure, so that a script can tell a typo
 * from a broker that is down. {@code docs/cli.md} lists the same table; {@link Failures} maps
 * exceptions to these.
 *
 * <p>Constants only; thread-safe.
 */
public final class ExitCode {
  /** Done as asked. */
  public static final int OK = 0;

  /** Ran, but the answer is no: fewer messages than {@code --count} arrived before the timeout. */
  public static final int INCOMPLETE = 1;

  /** The command line is wrong: an unknown option, a missing or malformed argument. */
  public static final int USAGE = 2;

  /** The URI or the configuration file is wrong: malformed, an unknown scheme, a bad parameter. */
  public static final int CONFIGURATION = 3;

  /** A topic or group name is not portable ({@code [A-Za-z0-9._-]}, 1 to 100 characters). */
  public static final int INVALID_NAME = 4;

  /** The broker cannot be reached, timed out, or {@code health} is down. */
  public static final int UNAVAILABLE = 5;

  /** The broker refused the credentials. */
  public static final int AUTHENTICATION = 6;

  /** The backend cannot do what was asked (no replay from an offset, no lag). */
  public static final int UNSUPPORTED = 7;

  /** What was named is not there: a dead-letter id, a topic. */
  public static final int NOT_FOUND = 8;

  /**
   * A message was refused: too large, or the input (a JSON line) could not be read as a message.
   */
  public static final int BAD_MESSAGE = 9;

  /** Anything else: a bug or an unexpected failure; {@code --verbose} shows the stack trace. */
  public static final int INTERNAL = 10;

  private ExitCode() {}
}
