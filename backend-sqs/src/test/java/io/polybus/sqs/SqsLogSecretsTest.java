package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.tck.Inbox;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

/**
 * What secrets reach a log when every logger is at its most verbose: the AWS SDK's records (through
 * SLF4J, here the capturing test binding) and the JDK's and Polybus's own (java.util.logging).
 * docs/uris.md promises exactly what this proves: the session token appears only in the SDK
 * signer's DEBUG records and the JDK HTTP client's FINE ones, and Polybus warns when either logger
 * is that verbose.
 */
class SqsLogSecretsTest {
  @Test
  @Timeout(60)
  void shouldShowTheSessionTokenOnlyInTheSdkSignersDebugRecordsAndWarnThatTheyDo()
      throws Exception {
    String token = "pbtoken" + UUID.randomUUID().toString().replace("-", "");
    String secret = "pbsecret" + UUID.randomUUID().toString().replace("-", "");
    String prefix = SqsTestSupport.uniquePrefix();
    String uri =
        "sqs://AKIDPOLYBUSTEST:"
            + secret
            + "@"
            + SqsTestSupport.ENDPOINT
            + "?region=us-east-1&prefix="
            + prefix
            + "&sessionToken="
            + token;
    try {
      List<CapturedLog.Entry> log =
          CapturedLog.capture(
              () -> {
                try (Polybus bus = Polybus.connect(uri)) {
                  Inbox inbox = new Inbox();
                  bus.subscribe("secrets", "g", inbox);
                  Message m = Message.of("k", "signed with a session token");
                  bus.publishAndWait("secrets", m);
                  inbox.awaitIds(List.of(m.id()), Duration.ofSeconds(30), "the message");
                }
              });
      assertThat(log)
          .as("the SDK's debug records were captured")
          .anyMatch(
              e ->
                  e.logger().startsWith("software.amazon.awssdk")
                      && e.level() == Level.DEBUG
                      && !e.logger().equals(SqsBackendProvider.SDK_SIGNER_LOGGER));
      // The reason for the narrowed promise: the signer's canonical request and the JDK's request
      // headers hold
      // X-Amz-Security-Token. Nothing else does, at any level.
      List<String> leaking =
          List.of(SqsBackendProvider.SDK_SIGNER_LOGGER, SqsBackendProvider.JDK_HTTP_LOGGER);
      assertThat(log)
          .as("records with the token")
          .filteredOn(e -> e.text().contains(token))
          .extracting(CapturedLog.Entry::logger)
          .containsAll(leaking)
          .isSubsetOf(leaking);
      assertThat(log)
          .as("records with the token are below INFO")
          .filteredOn(e -> e.text().contains(token))
          .allSatisfy(e -> assertThat(e.level().toInt()).isLessThan(Level.INFO.toInt()));
      assertThat(log)
          .as("the secret access key, anywhere")
          .noneMatch(e -> e.text().contains(secret));
      for (String logger : leaking) {
        assertThat(log)
            .as("Polybus's warning about %s", logger)
            .anyMatch(
                e ->
                    e.logger().equals("io.polybus.sqs")
                        && e.level() == Level.WARN
                        && e.text().contains(logger)
                        && !e.text().contains(token));
      }
    } finally {
      SqsTestSupport.deleteQueues(prefix);
    }
  }
}
