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
    PolybusOptions o =
        PolybusOptions.parse("KAFKA://h1:9092,h2:9093/some/path?acks=all&linger=5ms");
    assertThat(o.scheme()).isEqualTo("kafka");
    assertThat(o.hosts()).containsExactly("h1:9092", "h2:9093");
    assertThat(o.path()).isEqualTo("/some/path");
    assertThat(o.parameters())
        .containsExactly(Map.entry("acks", "all"), Map.entry("linger", "5ms"));
  }

  @Test
  void parsesOpaqueFormsWithoutAuthority() {
    assertThat(PolybusOptions.parse("mem:").path()).isEmpty();
    assertThat(PolybusOptions.parse("log:./data?partitions=8").path()).isEqualTo("./data");
    assertThat(PolybusOptions.parse("sqs:?region=eu-west-1").parameters())
        .containsEntry("region", "eu-west-1");
  }

  @Test
  void decodesPercentEscapesInUserInfoPathAndParameters() {
    PolybusOptions o =
        PolybusOptions.parse("rabbitmq://us%40er:p%3Ass%2F@host:5672/v%2Fhost?name=caf%C3%A9");
    assertThat(o.user()).isEqualTo("us@er");
    assertThat(o.password()).isEqualTo("p:ss/");
    assertThat(o.path()).isEqualTo("/v/host");
    assertThat(o.parameters().get("name")).isEqualTo("café");
  }

  @Test
  void neverShowsThePasswordOrSecretParameters() {
    PolybusOptions o =
        PolybusOptions.parse("rabbitmq://guest:s3cret@host:5672/?token=abc123&prefetch=10")
            .withNativeSetting("sasl.jaas.config", "password=hunter2");
    assertThat(o.toString())
        .doesNotContain("s3cret", "abc123", "hunter2")
        .contains("guest", "prefetch=10");
    assertThat(o.redacted()).isEqualTo("rabbitmq://guest:****@host:5672/?token=****&prefetch=10");
  }

  @Test
  void rejectsMalformedUrisWithoutLeakingThePassword() {
    for (String bad :
        List.of(
            "",
            "://x",
            "1abc:",
            "mem:?a=%zz",
            "kafka://h:99999",
            "kafka://h1,,h2",
            "mem:#frag",
            "mem:?a=1&a=2",
            "mem:?=1")) {
      assertThatThrownBy(() -> PolybusOptions.parse(bad))
          .as(bad)
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("malformed Polybus URI");
    }
    assertThatThrownBy(() -> PolybusOptions.parse("kafka://u:s3cret@h:notaport"))
        .isInstanceOf(ConfigurationException.class)
        .message()
        .doesNotContain("s3cret");
  }

  @Test
  void readsTheUriAndNativeSettingsFromAMap() {
    PolybusOptions o =
        PolybusOptions.fromMap(
            Map.of(
                "polybus.uri", "kafka://localhost:9092",
                "polybus.kafka.linger.ms", "5",
                "polybus.rabbitmq.prefetch", "10",
                "server.port", "8080"));
    assertThat(o.nativeSettings()).containsExactly(Map.entry("linger.ms", "5"));
  }

  @Test
  void rejectsUnknownPolybusKeysAndAMissingUri() {
    assertThatThrownBy(
            () -> PolybusOptions.fromMap(Map.of("polybus.uri", "mem:", "polybus.urii", "x")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.urii");
    Properties p = new Properties();
    p.setProperty("polybus.kafka.acks", "all");
    assertThatThrownBy(() -> PolybusOptions.fromProperties(p))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("polybus.uri");
  }

  @Test
  void unknownSchemeListsTheBackendsOnTheClassPath() {
    assertThatThrownBy(() -> Polybus.connect("nosuch://user:s3cret@host"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("nosuch")
        .message()
        .doesNotContain("s3cret");
  }

  @Test
  void neverShowsASecretInAnErrorWhateverElseIsMalformed() {
    List<Map.Entry<String, String>> secretOf = new java.util.ArrayList<>();
    secretOf.add(Map.entry("rabbitmq://u:s3cr%ZZetPw@h/", "s3cr"));
    secretOf.add(Map.entry("rabbitmq://u:s3cr%ZZetPw@h/", "etPw"));
    secretOf.add(Map.entry("rabbitmq://u:pa/ssw0rd@h/", "pa"));
    secretOf.add(Map.entry("rabbitmq://u:pa?ssw0rd@h/", "ssw0rd"));
    secretOf.add(Map.entry("rabbitmq://u:pa#ssw0rd@h/", "ssw0rd"));
    secretOf.add(Map.entry("rabbitmq://u:pa/ss?w0#rd@h:99999/", "w0"));
    secretOf.add(Map.entry("sqs://h:19324?secretAccessKey=K1x&secretAccessKey=K2y", "K1x"));
    secretOf.add(Map.entry("sqs://h:19324?secretAccessKey=K2y&secretAccessKey=K1x", "K2y"));
    secretOf.add(Map.entry("sqs://h:99999?secretAccessKey=Kzz1", "Kzz1"));
    secretOf.add(Map.entry("sqs://h:1?secretAccessKey=Kzz2&region=%zz", "Kzz2"));
    secretOf.add(Map.entry("sqs://h:1?secretAccessKey=Kz%zz3", "Kz"));
    secretOf.add(Map.entry("sqs://h:1?sessionToken=T0k3n&a=1&a=2", "T0k3n"));
    secretOf.add(
        Map.entry(
            "rabbitmq://u:hunter2",
            "hunter2")); // the '@' and host forgotten: "hunter2" would be a port
    for (Map.Entry<String, String> e : secretOf) {
      Throwable t =
          org.assertj.core.api.Assertions.catchThrowable(() -> PolybusOptions.parse(e.getKey()));
      assertThat(t).as("parse(%s)", e.getKey()).isInstanceOf(ConfigurationException.class);
      assertThat(t.getMessage())
          .as("error for a URI with secret %s", e.getValue())
          .doesNotContain(e.getValue())
          .contains("malformed Polybus URI");
    }
  }

  @Test
  void namesWhatIsWrongWhenNoSecretIsInvolved() {
    assertThatThrownBy(() -> PolybusOptions.parse("kafka://h:99999"))
        .hasMessageContaining("'99999'")
        .hasMessageContaining("'h'");
    assertThatThrownBy(() -> PolybusOptions.parse("kafka://h:1?a=1&a=2"))
        .hasMessageContaining("'a' given twice");
    assertThatThrownBy(() -> PolybusOptions.parse("log:./d?x=%zz")).hasMessageContaining("'%zz'");
  }

  @Test
  void readsAMapWithKeysThatAreNotStringsOrAUriThatIsNotAStringWithAClearError() {
    Map<Object, Object> raw = new java.util.HashMap<>();
    raw.put("polybus.uri", "mem:");
    raw.put(42, "x");
    @SuppressWarnings("unchecked")
    Map<String, ?> config = (Map<String, ?>) (Map<?, ?>) raw;
    assertThatThrownBy(() -> PolybusOptions.fromMap(config))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("42")
        .hasMessageContaining("java.lang.Integer");

    Properties p = new Properties();
    p.put("polybus.uri", 17);
    assertThatThrownBy(() -> PolybusOptions.fromProperties(p))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("'polybus.uri'")
        .hasMessageContaining("java.lang.Integer");
  }
}
