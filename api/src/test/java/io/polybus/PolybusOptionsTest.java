package io.polybus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class PolybusOptionsTest {
  @Test
  void parsesSchemeHostsPathAndParameters() {
    PolybusOptions o = PolybusOptions.parse("KAFKA://h1:9092,h2:9093/some/path?acks=all&linger=5ms");
    assertThat(o.scheme()).isEqualTo("kafka");
    assertThat(o.hosts()).containsExactly("h1:9092", "h2:9093");
    assertThat(o.path()).isEqualTo("/some/path");
    assertThat(o.parameters()).containsExactly(Map.entry("acks", "all"), Map.entry("linger", "5ms"));
  }

  @Test
  void parsesOpaqueFormsWithoutAuthority() {
    assertThat(PolybusOptions.parse("mem:").path()).isEmpty();
    assertThat(PolybusOptions.parse("log:./data?partitions=8").path()).isEqualTo("./data");
    assertThat(PolybusOptions.parse("sqs:?region=eu-west-1").parameters()).containsEntry("region", "eu-west-1");
  }

  @Test
  void decodesPercentEscapesInUserInfoPathAndParameters() {
    PolybusOptions o = PolybusOptions.parse("rabbitmq://us%40er:p%3Ass%2F@host:5672/v%2Fhost?name=caf%C3%A9");
    assertThat(o.user()).isEqualTo("us@er");
    assertThat(o.password()).isEqualTo("p:ss/");
    assertThat(o.path()).isEqualTo("/v/host");
    assertThat(o.parameters().get("name")).isEqualTo("café");
  }

  @Test
  void neverShowsThePasswordOrSecretParameters() {
    PolybusOptions o = PolybusOptions.parse("rabbitmq://guest:s3cret@host:5672/?token=abc123&prefetch=10")
        .withNativeSetting("sasl.jaas.config", "password=hunter2");
    assertThat(o.toString()).doesNotContain("s3cret", "abc123", "hunter2").contains("guest", "prefetch=10");
    assertThat(o.redacted()).isEqualTo("rabbitmq://guest:****@host:5672/?token=****&prefetch=10");
  }

  @Test
  void rejectsMalformedUrisWithoutLeakingThePassword() {
    for (String bad : List.of("", "://x", "1abc:", "mem:?a=%zz", "kafka://h:99999", "kafka://h1,,h2", "mem:#frag",
        "mem:?a=1&a=2", "mem:?=1")) {
      assertThatThrownBy(() -> PolybusOptions.parse(bad)).as(bad).isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("malformed Polybus URI");
    }
    assertThatThrownBy(() -> PolybusOptions.parse("kafka://u:s3cret@h:notaport"))
        .isInstanceOf(ConfigurationException.class)
        .message().doesNotContain("s3cret");
  }

  @Test
  void readsTheUriAndNativeSettingsFromAMap() {
    PolybusOptions o = PolybusOptions.fromMap(Map.of(
        "polybus.uri", "kafka://localhost:9092",
        "polybus.kafka.linger.ms", "5",
        "polybus.rabbitmq.prefetch", "10",
        "server.port", "8080"));
    assertThat(o.nativeSettings()).containsExactly(Map.entry("linger.ms", "5"));
  }

  @Test
  void rejectsUnknownPolybusKeysAndAMissingUri() {
    assertThatThrownBy(() -> PolybusOptions.fromMap(Map.of("polybus.uri", "mem:", "polybus.urii", "x")))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("polybus.urii");
    Properties p = new Properties();
    p.setProperty("polybus.kafka.acks", "all");
    assertThatThrownBy(() -> PolybusOptions.fromProperties(p))
        .isInstanceOf(ConfigurationException.class).hasMessageContaining("polybus.uri");
  }

  @Test
  void unknownSchemeListsTheBackendsOnTheClassPath() {
    assertThatThrownBy(() -> Polybus.connect("nosuch://user:s3cret@host"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuch")
        .message().doesNotContain("s3cret");
  }
}
