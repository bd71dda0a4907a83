package io.polybus.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.ConfigurationException;
import io.polybus.Polybus;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Native settings reach the client's ConnectionFactory only under names it reads; a typo is
 * refused, not ignored.
 */
class RabbitMqNativeSettingsTest {
  @Test
  void shouldRefuseAMisspeltNativeSettingNamingItAndTheNearestValidOne() {
    assertThatThrownBy(
            () ->
                Polybus.connect(
                    Map.of(
                        "polybus.uri",
                        TestBroker.URI,
                        "polybus.rabbitmq.connection.hartbeat",
                        "5")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("connection.hartbeat")
        .hasMessageContaining("connection.heartbeat");
  }

  @Test
  void shouldRefuseAnUnknownNativeSettingFromPropertiesBeforeConnecting() {
    Properties p = new Properties();
    // Nothing listens on port 1: the setting must be refused before any connection attempt.
    p.setProperty("polybus.uri", "amqp://guest:guest@127.0.0.1:1?connectTimeout=1s");
    p.setProperty("polybus.amqp.no.such.setting", "1");
    assertThatThrownBy(() -> Polybus.connect(p))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("no.such.setting");
  }

  @Test
  void shouldRefuseANonNumericValueOfANumericNativeSettingAsConfiguration() {
    assertThatThrownBy(
            () ->
                Polybus.connect(
                    Map.of(
                        "polybus.uri",
                        TestBroker.URI,
                        "polybus.rabbitmq.connection.heartbeat",
                        "five")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("connection.heartbeat");
  }

  @Test
  @Timeout(60)
  void shouldAcceptTheClientsOwnSettingNamesAliasesAndClientProperties() {
    try (Polybus bus =
        Polybus.connect(
            Map.of(
                "polybus.uri",
                TestBroker.URI,
                "polybus.rabbitmq.connection.heartbeat",
                "7",
                "polybus.rabbitmq.channel.rpc.timeout",
                "20000",
                "polybus.rabbitmq.ssl.verify-hostname",
                "false",
                "polybus.rabbitmq.client.properties.app",
                "native-settings-test"))) {
      assertThat(bus.health().up()).as("%s", bus.health()).isTrue();
    }
  }
}
