package io.polybus.cli;

import io.polybus.AuthenticationException;
import io.polybus.CodecException;
import io.polybus.ConfigurationException;
import io.polybus.PayloadTooLargeException;
import io.polybus.TransientPolybusException;
import io.polybus.UnknownTopicException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns any exception into an {@link ExitCode} and a one-line message. Polybus's own messages
 * already show URIs redacted; a broker client's message could still quote what it was given, so the
 * known password is masked here as a second guard.
 *
 * <p>Stateless; thread-safe.
 */
public final class Failures {
  private Failures() {}

  /** The exit status for {@code t} (after unwrapping future wrappers). */
  public static int exitCode(Throwable t) {
    Throwable e = unwrap(t);
    if (e instanceof CliException c) {
      return c.exitCode();
    }
    if (e instanceof AuthenticationException) {
      return ExitCode.AUTHENTICATION;
    }
    if (e instanceof ConfigurationException) {
      return ExitCode.CONFIGURATION;
    }
    if (e instanceof UnknownTopicException) {
      return ExitCode.NOT_FOUND;
    }
    if (e instanceof PayloadTooLargeException || e instanceof CodecException) {
      return ExitCode.BAD_MESSAGE;
    }
    if (e instanceof TransientPolybusException) {
      return ExitCode.UNAVAILABLE;
    }
    if (e instanceof UnsupportedOperationException) {
      return ExitCode.UNSUPPORTED;
    }
    if (e instanceof IllegalArgumentException) {
      String m = String.valueOf(e.getMessage());
      // The library checks names before anything is sent, with this wording (docs/semantics.md).
      return m.startsWith("invalid topic name") || m.startsWith("invalid group name")
          ? ExitCode.INVALID_NAME
          : ExitCode.USAGE;
    }
    return ExitCode.INTERNAL;
  }

  /** One line for the user: what is wrong, with {@code secret} (if any) masked. */
  public static String message(Throwable t, String secret) {
    Throwable e = unwrap(t);
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      m = e.getClass().getSimpleName();
    } else if (!(e instanceof CliException) && exitCode(e) == ExitCode.INTERNAL) {
      m = e.getClass().getSimpleName() + ": " + m;
    }
    return mask(m.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip(), secret);
  }

  public static String mask(String text, String secret) {
    return secret == null || secret.isEmpty() ? text : text.replace(secret, "****");
  }

  static Throwable unwrap(Throwable t) {
    Throwable e = t;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
