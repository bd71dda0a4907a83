package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageJsonTest {
  @Test
  void whatConsumePrintsPublishReadsBackToTheSameMessage() {
    byte[] binary = {0, (byte) 0xff, (byte) 0xfe, 10};
    Message m = Message.builder().key("ключ").header("h", "✓").payload(binary).build();

    MessageJson.Parsed p = MessageJson.parse(MessageJson.line(m, Map.of("topic", "t")), 1);

    assertThat(p.id()).isEqualTo(m.id());
    assertThat(p.key()).isEqualTo("ключ");
    assertThat(p.headers()).containsExactlyEntriesOf(m.headers());
    assertThat(p.timestamp()).isEqualTo(m.timestamp());
    assertThat(p.payload()).isEqualTo(binary);
  }

  @Test
  void validUtf8IsWrittenAsTextAndAnythingElseAsBase64() {
    assertThat(MessageJson.line(Message.of("héllo"), Map.of())).contains("\"encoding\":\"utf-8\"");
    assertThat(MessageJson.line(Message.of(new byte[] {(byte) 0xc3}), Map.of()))
        .contains("\"encoding\":\"base64\"");
  }

  @Test
  void aLineThatIsNotAMessageNamesItsNumber() {
    assertThatThrownBy(() -> MessageJson.parse("{\"key\":\"k\"}", 7))
        .isInstanceOfSatisfying(
            CliException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.BAD_MESSAGE))
        .hasMessage("input line 7: no \"payload\" string");
  }
}
