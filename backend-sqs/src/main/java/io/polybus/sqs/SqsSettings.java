package io.polybus.sqs;

import java.net.URI;
import java.time.Duration;

/**
 * The parsed configuration of one bus. Immutable.
 *
 * @param endpoint the SQS endpoint ({@code http://host:port}), or null for AWS's own endpoint of
 *     the region
 * @param region the signing region (and AWS's endpoint when {@code endpoint} is null)
 * @param accessKeyId static credentials, or null for the SDK's default provider chain (AWS) or
 *     placeholder credentials (a custom endpoint, which local servers do not check)
 * @param secretAccessKey the secret of {@code accessKeyId}; never shown
 * @param sessionToken an optional session token; never shown
 * @param fifo FIFO queues, ordered by key
 * @param prefix the start of every queue name this bus makes
 * @param timeout the bound of each SQS call, the SDK's own retries included
 * @param maxMessageSize what SQS accepts per message (body and attributes), in bytes
 * @param refresh how long a topic's list of group queues is trusted before it is listed again
 * @param longPoll the long-poll wait of one receive
 * @param publishers threads that send publishes
 * @param maxReceiveCount 0 for no RedrivePolicy; otherwise the receive count after which SQS itself
 *     moves a message to the dead-letter topic's {@code dlq} group queue (a safety net; set it to
 *     the subscriptions' maxAttempts + 1)
 */
record SqsSettings(
    URI endpoint,
    String region,
    String accessKeyId,
    String secretAccessKey,
    String sessionToken,
    boolean fifo,
    String prefix,
    Duration timeout,
    int maxMessageSize,
    Duration refresh,
    Duration longPoll,
    int publishers,
    int maxReceiveCount) {

  /**
   * Room kept in every message for attributes: id, key, timestamp, encoding and headers, including
   * the dead-letter headers (a reason and an error message of up to 1000 characters each) added to
   * a message already at the limit.
   */
  static final int ATTRIBUTE_RESERVE = 16 * 1024;

  /**
   * The largest payload that fits in a message after encoding: binary payloads travel in base64 (4
   * characters per 3 bytes), and {@link #ATTRIBUTE_RESERVE} stays free.
   */
  int maxPayloadBytes() {
    return (maxMessageSize - ATTRIBUTE_RESERVE) / 4 * 3;
  }

  SqsNames names() {
    return new SqsNames(prefix, fifo);
  }

  /** Where SQS is, for messages: never a credential. */
  String where() {
    return endpoint != null ? endpoint + " (region " + region + ")" : "AWS SQS in " + region;
  }

  @Override
  public String toString() {
    return "SqsSettings{" + where() + ", fifo=" + fifo + ", prefix=" + prefix + "}";
  }
}
