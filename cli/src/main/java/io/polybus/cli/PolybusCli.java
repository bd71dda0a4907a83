package io.polybus.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code polybus}, the command-line tool: the root command and {@link #main}, which configures
 * logging, runs a subcommand and turns whatever it throws into one line and an {@link ExitCode}.
 *
 * <p>One instance per process; not thread-safe.
 */
@Command(
    name = "polybus",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description =
        "Publish, consume, inspect lag and dead letters, check health and benchmark on any"
            + " Polybus URI.",
    subcommands = {
      PublishCommand.class,
      ConsumeCommand.class,
      LagCommand.class,
      DlqCommand.class,
      HealthCommand.class,
      BenchCommand.class,
      CompletionCommand.class
    },
    footer = {
      "",
      "Exit codes: see docs/cli.md (0 ok, 2 usage, 3 configuration, 5 unavailable, ...)."
    })
public final class PolybusCli implements Runnable {
  /** The password of the URI in use, masked in every error message as a second guard. */
  private static final AtomicReference<String> SECRET = new AtomicReference<>();

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  /** Runs the tool and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the tool; returns the exit status. */
  public static int run(String[] args) {
    boolean verbose = Arrays.stream(args).anyMatch(a -> a.equals("-v") || a.equals("--verbose"));
    quietLogs(verbose);
    CommandLine cmd = commandLine();
    cmd.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (verbose) {
            e.printStackTrace(Io.err());
          }
          Io.out().flush();
          Io.err().println("polybus: " + Failures.message(e, SECRET.get()));
          return Failures.exitCode(e);
        });
    cmd.setParameterExceptionHandler(
        (e, argv) -> {
          Io.err()
              .println(
                  "polybus: "
                      + Failures.mask(
                          e.getMessage().replaceAll("\\s*[\\r\\n]+\\s*", " "), SECRET.get())
                      + " (see '"
                      + e.getCommandLine().getCommandSpec().qualifiedName()
                      + " --help')");
          return ExitCode.USAGE;
        });
    int code = cmd.execute(args);
    Io.out().flush();
    return code;
  }

  /** The command tree, also used to generate shell completion. */
  static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new PolybusCli());
    cmd.setOut(new PrintWriter(Io.out(), true));
    cmd.setErr(new PrintWriter(Io.err(), true));
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    return cmd;
  }

  static void rememberSecret(String password) {
    if (password != null && !password.isEmpty()) {
      SECRET.set(password);
    }
  }

  /**
   * Broker clients log through SLF4J (slf4j-simple here) and the Polybus runtime through {@link
   * System.Logger} (java.util.logging): a tool's output must not drown in their INFO lines, so both
   * are off unless {@code --verbose}. Set before any logger exists.
   */
  private static void quietLogs(boolean verbose) {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "off");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    Logger root = Logger.getLogger("");
    root.setLevel(verbose ? Level.INFO : Level.OFF);
    for (var h : root.getHandlers()) {
      h.setLevel(verbose ? Level.INFO : Level.OFF);
    }
  }
}
