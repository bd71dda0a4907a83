package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Settings the log refuses at connect, naming the key, instead of failing later or ignoring them.
 */
@Timeout(60)
class NativeLogSettingsTest {
  @TempDir Path dir;

  @Test
  void aSecondBusOfThisJvmWithOtherLogSettingsIsRefusedNamingBothValues() {
    try (Polybus first = Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k")) {
      assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?segmentSize=64m&maxPayload=16m"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("segmentSize")
          .hasMessageContaining("1048576")
          .hasMessageContaining("67108864");
      assertThatThrownBy(
              () -> Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k&partitions=8"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("partitions")
          .hasMessageContaining("4")
          .hasMessageContaining("8");
      assertThatThrownBy(
              () ->
                  Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k&stallTimeout=5s"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("stallTimeout");
      assertThatThrownBy(
              () -> Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k&retention=1d"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("retention");
    }
  }

  @Test
  void aSecondBusWithTheSameLogSettingsSharesTheDirectoryAndMayDifferInItsOwn() {
    try (Polybus first = Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=64k");
        Polybus second =
            Polybus.connect("log:" + dir + "?segmentSize=1m&maxPayload=32k&fsync=sync")) {
      second.publishAndWait("t", io.polybus.Message.of("x"));
      assertThat(first.health().up()).isTrue();
    }
    // Once the first closed, new settings apply.
    try (Polybus later = Polybus.connect("log:" + dir + "?segmentSize=2m&maxPayload=64k")) {
      assertThat(later.health().up()).isTrue();
    }
  }

  @Test
  void durationsTheLogCannotCountAreRefusedNamingTheKeyAndTheRange() {
    for (String bad :
        new String[] {
          "stallTimeout=300000d",
          "stallTimeout=9999999999999999d",
          "fsyncInterval=9223372036854775807s",
          "retention=9223372036854775807s",
          "retentionCheckInterval=9223372036854775807s",
          "fsyncInterval=500us",
          "retentionCheckInterval=10us"
        }) {
      String key = bad.substring(0, bad.indexOf('='));
      assertThatThrownBy(() -> Polybus.connect("log:" + dir + "?fsync=interval&" + bad))
          .as(bad)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining(key)
          .hasMessageContaining("between");
    }
  }

  @Test
  void nativeSettingsAreRefusedNamingTheKey() {
    assertThatThrownBy(
            () ->
                Polybus.connect(Map.of("polybus.uri", "log:" + dir, "polybus.log.partitions", "8")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.log.partitions");
    Properties p = new Properties();
    p.setProperty("polybus.uri", "log:" + dir);
    p.setProperty("polybus.log.segmentSize", "1m");
    assertThatThrownBy(() -> Polybus.connect(PolybusOptions.fromProperties(p)))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.log.segmentSize");
  }
}
