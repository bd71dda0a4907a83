package io.polybus.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The process's standard streams, always UTF-8: the platform default follows the locale (often
 * ASCII in containers and CI), which would mangle unicode keys, headers and payloads.
 *
 * <p>Set once by {@link PolybusCli#main} before any command runs; the streams themselves are
 * thread-safe ({@link PrintStream}).
 */
public final class Io {
  private static final PrintStream OUT =
      new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
  private static final PrintStream ERR =
      new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);

  private Io() {}

  /** Standard output (flush it after writing what the user waits for). */
  public static PrintStream out() {
    return OUT;
  }

  /** Standard error, auto-flushed: progress and failures. */
  public static PrintStream err() {
    return ERR;
  }

  /** Standard input, as bytes. */
  public static InputStream in() {
    return System.in;
  }
}
