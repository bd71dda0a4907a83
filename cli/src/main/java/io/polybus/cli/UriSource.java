package io.polybus.cli;

import io.polybus.PolybusOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where the URI comes from, first match wins: {@code --uri}, then the environment variable {@code
 * POLYBUS_URI}, then a configuration file ({@code --config FILE}, else {@code POLYBUS_CONFIG}, else
 * {@code ~/.config/polybus/config.properties} when it exists), else the embedded default {@code
 * log:./polybus-data}. The file is in Polybus's {@link PolybusOptions#fromProperties Properties
 * form} ({@code polybus.uri=...}, native settings as {@code polybus.<scheme>.<k>=v}), so a password
 * can live in a file or in the environment instead of on the command line, where other users of the
 * machine could read it.
 *
 * <p>Stateless; thread-safe.
 */
public final class UriSource {
  /** The environment variable holding a URI. */
  public static final String URI_ENV = "POLYBUS_URI";

  /** The environment variable naming a configuration file. */
  public static final String CONFIG_ENV = "POLYBUS_CONFIG";

  /** The URI used when none is given anywhere: the embedded log, as the demo uses. */
  public static final String DEFAULT_URI = "log:./polybus-data";

  private UriSource() {}

  /**
   * Resolves the options.
   *
   * @param uriFlag {@code --uri}, or null
   * @param configFlag {@code --config}, or null
   * @param env the environment
   * @param home the user's home directory
   * @throws CliException with {@link ExitCode#CONFIGURATION} for a file that cannot be read
   * @throws io.polybus.ConfigurationException for a malformed URI (its message is redacted)
   */
  public static PolybusOptions resolve(
      String uriFlag, Path configFlag, Map<String, String> env, Path home) {
    if (uriFlag != null) {
      return PolybusOptions.parse(uriFlag);
    }
    String fromEnv = env.get(URI_ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return PolybusOptions.parse(fromEnv);
    }
    Path file = configFlag;
    if (file == null && env.get(CONFIG_ENV) != null && !env.get(CONFIG_ENV).isBlank()) {
      file = Path.of(env.get(CONFIG_ENV));
    }
    if (file == null) {
      Path standard = home.resolve(".config").resolve("polybus").resolve("config.properties");
      if (Files.isRegularFile(standard)) {
        file = standard;
      }
    }
    if (file == null) {
      return PolybusOptions.parse(DEFAULT_URI);
    }
    return fromFile(file);
  }

  private static PolybusOptions fromFile(Path file) {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      p.load(in);
    } catch (IOException e) {
      throw new CliException(
          ExitCode.CONFIGURATION, "cannot read the configuration file " + file + ": " + e);
    }
    if (p.getProperty("polybus.uri") == null) {
      throw new CliException(
          ExitCode.CONFIGURATION, "the configuration file " + file + " has no polybus.uri");
    }
    return PolybusOptions.fromProperties(p);
  }
}
