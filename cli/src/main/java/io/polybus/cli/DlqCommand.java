package io.polybus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code polybus dlq}: the group of dead-letter subcommands (list, show, redrive).
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "dlq",
    mixinStandardHelpOptions = true,
    description = {
      "Inspect and redrive a dead-letter topic (default name <topic>.<group>.dlq).",
      "list and show peek with group 'dlq' and give every record back; redrive moves records"
          + " back to their source topic."
    },
    subcommands = {DlqListCommand.class, DlqShowCommand.class, DlqRedriveCommand.class})
final class DlqCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "a subcommand is required: list, show or redrive");
  }
}
