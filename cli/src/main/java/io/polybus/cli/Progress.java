package io.polybus.cli;

import java.io.PrintStream;

/**
 * Progress of a redrive on standard error: a bar redrawn in place on a terminal, one line per
 * record otherwise (a log or a pipe keeps every step).
 *
 * <p>One instance per run; not thread-safe.
 */
final class Progress {
  private static final int WIDTH = 30;

  private final PrintStream err;
  private final int total;
  private final boolean terminal;
  private int done;

  Progress(PrintStream err, int total, boolean terminal) {
    this.err = err;
    this.total = total;
    this.terminal = terminal;
  }

  static Progress forTerminal(int total) {
    return new Progress(Io.err(), total, System.console() != null);
  }

  void step(String id, String source, boolean dryRun) {
    done++;
    if (terminal) {
      int filled = total == 0 ? WIDTH : done * WIDTH / total;
      err.print(
          "\r[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + done + "/" + total);
    } else {
      err.println(
          (dryRun ? "would redrive " : "redrove ")
              + done
              + "/"
              + total
              + " "
              + id
              + " -> "
              + source);
    }
  }

  void done() {
    if (terminal && done > 0) {
      err.println();
    }
  }
}
