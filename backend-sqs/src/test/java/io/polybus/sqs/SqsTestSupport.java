package io.polybus.sqs;

import java.net.URI;
import java.util.UUID;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ListQueuesResponse;

/**
 * The test endpoint (ElasticMQ from scripts/services/elasticmq.sh, or {@code
 * -Dpolybus.sqs.endpoint=host:port}) and unique queue-name prefixes; every test class deletes the
 * queues under its prefix.
 */
final class SqsTestSupport {
  static final String ENDPOINT = System.getProperty("polybus.sqs.endpoint", "127.0.0.1:9324");

  private SqsTestSupport() {}

  static String uniquePrefix() {
    return "pbt-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  }

  static String uri(String prefix, String extra) {
    return "sqs://"
        + ENDPOINT
        + "?region=us-east-1&prefix="
        + prefix
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  /** A plain SDK client on the test endpoint, as any other SQS application would make it. */
  static SqsClient client() {
    return client(ENDPOINT);
  }

  static SqsClient client(String endpoint) {
    return SqsClient.builder()
        .endpointOverride(URI.create("http://" + endpoint))
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  /** Deletes every queue whose name starts with {@code prefix}. */
  static void deleteQueues(String prefix) {
    try (SqsClient sqs = client()) {
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
}
