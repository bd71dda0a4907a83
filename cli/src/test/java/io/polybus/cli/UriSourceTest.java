package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UriSourceTest {
  @TempDir Path home;

  @Test
  void theFlagWinsOverTheEnvironmentWhichWinsOverTheFile() throws Exception {
    Path file = home.resolve(".config/polybus/config.properties");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "polybus.uri=redis://file:6379\n");
    Map<String, String> env = Map.of(UriSource.URI_ENV, "kafka://env:9092");

    assertThat(UriSource.resolve("mem:", null, env, home).scheme()).isEqualTo("mem");
    assertThat(UriSource.resolve(null, null, env, home).hosts()).containsExactly("env:9092");
    assertThat(UriSource.resolve(null, null, Map.of(), home).hosts()).containsExactly("file:6379");
  }

  @Test
  void withNothingGivenTheEmbeddedLogIsUsed() {
    assertThat(UriSource.resolve(null, null, Map.of(), home).redacted())
        .isEqualTo(UriSource.DEFAULT_URI);
  }

  @Test
  void aNamedConfigFileThatIsMissingOrHasNoUriIsAConfigurationError() throws Exception {
    Path empty = Files.writeString(home.resolve("empty.properties"), "x=1\n");

    assertThatThrownBy(() -> UriSource.resolve(null, home.resolve("nope"), Map.of(), home))
        .isInstanceOfSatisfying(
            CliException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.CONFIGURATION));
    assertThatThrownBy(() -> UriSource.resolve(null, empty, Map.of(), home))
        .hasMessageContaining("no polybus.uri");
  }
}
