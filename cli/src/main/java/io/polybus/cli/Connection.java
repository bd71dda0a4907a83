package io.polybus.cli;

import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The options every subcommand shares (a picocli mixin): where to connect, and {@code --verbose}.
 *
 * <p>One instance per command invocation; not thread-safe.
 */
public final class Connection {
  @Option(
      names = "--uri",
      paramLabel = "URI",
      description =
          "Broker URI (mem:, log:DIR, kafka://, redis://, rabbitmq://, sqs://). "
              + "Default: $POLYBUS_URI, then the config file, then "
              + UriSource.DEFAULT_URI
              + ".")
  String uri;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Properties file with polybus.uri=... (default: $POLYBUS_CONFIG, "
              + "else ~/.config/polybus/config.properties when it exists).")
  Path config;

  @Option(
      names = {"-v", "--verbose"},
      description = "Show broker client logs and stack traces.")
  boolean verbose;

  /** The resolved options (never printed except {@link PolybusOptions#redacted()}). */
  public PolybusOptions options() {
    PolybusOptions o =
        UriSource.resolve(uri, config, System.getenv(), Path.of(System.getProperty("user.home")));
    PolybusCli.rememberSecret(o.password());
    return o;
  }

  /** Connects; the caller owns (closes) the bus. */
  public Polybus connect() {
    return Polybus.connect(options());
  }
}
