package io.polybus.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;

/**
 * {@code polybus completion}: prints a bash (and zsh, with {@code bashcompinit}) completion script
 * for every subcommand and option.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "completion",
    mixinStandardHelpOptions = true,
    description = {
      "Print a bash/zsh completion script.",
      "Use: source <(polybus completion)   (or save it under /etc/bash_completion.d/)"
    })
final class CompletionCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    Io.out().print(AutoComplete.bash("polybus", PolybusCli.commandLine()));
    return ExitCode.OK;
  }
}
