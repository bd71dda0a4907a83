package io.polybus.nativelog.internal;

import java.io.IOException;

/** A file of the log directory is not what Polybus wrote: wrong magic, wrong size, or a corrupt index. */
final class CorruptLogException extends IOException {
  private static final long serialVersionUID = 1L;

  CorruptLogException(String message) {
    super(message);
  }
}
