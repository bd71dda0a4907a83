package io.polybus.idempotency.it;

import io.polybus.Capabilities;
import io.polybus.ConsumerLag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ListQueuesResponse;

/**
 * Where the tests' brokers are: ElasticMQ (SQS) at 127.0.0.1:9324 and PostgreSQL at 127.0.0.1:5432,
 * as backend-sqs's and backend-postgres's own tests reach them, and what each backend declares.
 */
final class Brokers {
  static final String SQS_ENDPOINT = System.getProperty("polybus.sqs.endpoint", "127.0.0.1:9324");
  static final String JDBC_URL =
      System.getProperty("polybus.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

  private Brokers() {}

  /** A fresh queue-name prefix; {@link #deleteQueues} removes what it made. */
  static String sqsPrefix() {
    return "pbi-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  }

  /** An SQS standard-queue bus whose queues are named under {@code prefix}. */
  static String sqsUri(String prefix) {
    return "sqs://" + SQS_ENDPOINT + "?region=us-east-1&prefix=" + prefix;
  }

  static void deleteQueues(String prefix) {
    try (SqsClient sqs =
        SqsClient.builder()
            .endpointOverride(URI.create("http://" + SQS_ENDPOINT))
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .httpClient(UrlConnectionHttpClient.create())
            .build()) {
      String token = null;
      do {
        String t = token;
        ListQueuesResponse r =
            sqs.listQueues(b -> b.queueNamePrefix(prefix).maxResults(1000).nextToken(t));
        for (String url : r.queueUrls()) {
          sqs.deleteQueue(b -> b.queueUrl(url));
        }
        token = r.nextToken();
      } while (token != null && !token.isEmpty());
    }
  }

  static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What mem: declares (backend-inmemory's InMemoryTckTest). */
  static final Capabilities MEM =
      Capabilities.builder()
          .orderedByKey(true)
          .replay(true)
          .replayFromTimestamp(true)
          .replayFromOffset(true)
          .durable(false)
          .uncountedGiveBack(true)
          .nativeDelayedRetry(true)
          .mayDuplicate(false)
          .lagAccuracy(ConsumerLag.Accuracy.EXACT)
          .maxPayloadBytes(1 << 20)
          .maxHeaders(64)
          .build();

  /** What log: declares (backend-nativelog's NativeLogTckTest). */
  static final Capabilities LOG = MEM.newBuilder().durable(true).build();

  /** What SQS standard queues declare (backend-sqs's SqsTckTest). */
  static final Capabilities SQS =
      Capabilities.builder()
          .orderedByKey(false)
          .replay(false)
          .durable(true)
          .nativeDelayedRetry(true)
          .mayDuplicate(true)
          .uncountedGiveBack(true)
          .lagAccuracy(ConsumerLag.Accuracy.APPROXIMATE)
          .maxPayloadBytes(184_320)
          .maxHeaders(64)
          .build();
}
