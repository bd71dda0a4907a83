package io.polybus.sqs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.ListQueuesRequest;
import software.amazon.awssdk.services.sqs.model.ListQueuesResponse;

/**
 * Which group queues a topic has, for publishing: {@code ListQueues} by the topic's name prefix,
 * trusted for {@code refresh}, and updated at once when this bus creates a group (so a publish
 * right after a subscribe in the same process reaches it). Thread-safe; a listing may run twice at
 * once for one topic, which is harmless.
 *
 * <p>SQS's own listing is eventually consistent: a queue created by another process may be missed
 * for a moment (documented: a group created elsewhere receives what is published after this bus has
 * seen it).
 */
final class QueueDirectory {
  private record Entry(List<String> urls, long listedNanos) {}

  private final SqsClient sqs;
  private final SqsNames names;
  private final long refreshNanos;
  private final Map<String, Entry> topics = new ConcurrentHashMap<>();

  QueueDirectory(SqsClient sqs, SqsNames names, long refreshNanos) {
    this.sqs = sqs;
    this.names = names;
    this.refreshNanos = refreshNanos;
  }

  /**
   * The URLs of every group queue of {@code topic}; lists them again when the last listing is too
   * old.
   */
  List<String> groupQueues(String topic) {
    Entry e = topics.get(topic);
    long now = System.nanoTime();
    if (e != null && now - e.listedNanos < refreshNanos) {
      return e.urls;
    }
    String prefix = names.topicPrefix(topic);
    List<String> urls = new ArrayList<>();
    String token = null;
    do {
      ListQueuesResponse r =
          sqs.listQueues(
              ListQueuesRequest.builder()
                  .queueNamePrefix(prefix)
                  .maxResults(1000)
                  .nextToken(token)
                  .build());
      for (String url : r.queueUrls()) {
        if (names.isGroupQueue(prefix, queueName(url))) {
          urls.add(url);
        }
      }
      token = r.nextToken();
    } while (token != null && !token.isEmpty());
    List<String> list = List.copyOf(urls);
    topics.put(topic, new Entry(list, now));
    return list;
  }

  /**
   * This bus created (or found) a group queue: publishes see it from now on, without waiting for a
   * listing.
   */
  void added(String topic, String url) {
    topics.compute(
        topic,
        (t, e) -> {
          if (e == null) {
            return null; // the next publish lists the topic, which includes it
          }
          if (e.urls.contains(url)) {
            return e;
          }
          List<String> l = new ArrayList<>(e.urls);
          l.add(url);
          return new Entry(List.copyOf(l), e.listedNanos);
        });
  }

  /** A queue was found missing: list the topic again on the next publish. */
  void forget(String topic) {
    topics.remove(topic);
  }

  static String queueName(String url) {
    int slash = url.lastIndexOf('/');
    return slash >= 0 ? url.substring(slash + 1) : url;
  }
}
