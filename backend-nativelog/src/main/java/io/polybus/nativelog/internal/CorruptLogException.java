package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file of the log directory is not what Polybus wrote: wrong magic, wrong size, or a corrupt
 * index.
 */
final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * The segment file that cannot be used as it is (so health names it until the log is opened
   * again), or null when the damage is one every reader skips on its own.
   */
  final transient Path segment;

  CorruptLogException(String message) {
    this(null, message);
  }

  CorruptLogException(Path segment, String message) {
    super(message);
    this.segment = segment;
  }
}
