package io.polybus.cli;

import io.polybus.Health;
import io.polybus.Polybus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code polybus health}: one real round trip ({@link Polybus#health}); exit 0 when up, {@link
 * ExitCode#UNAVAILABLE} with the reason when down or unreachable.
 *
 * <p>One instance per invocation; not thread-safe.
 */
@Command(
    name = "health",
    mixinStandardHelpOptions = true,
    description =
        "Check the broker with one round trip: exit 0 when up, 5 with the reason when down.")
final class HealthCommand implements Callable<Integer> {
  @Mixin Connection connection;

  @Override
  public Integer call() {
    try (Polybus bus = connection.connect()) {
      Health h = bus.health();
      if (h.up()) {
        Io.out().println("up: " + bus.options().redacted() + " (" + h.detail() + ")");
        return ExitCode.OK;
      }
      throw new CliException(
          ExitCode.UNAVAILABLE, "down: " + bus.options().redacted() + ": " + h.detail());
    }
  }
}
