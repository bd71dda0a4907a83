package io.polybus.kafka;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The parsed {@code kafka://} URI and native settings, and the client configurations built from
 * them. Immutable; built once per {@link KafkaBackendProvider#open}.
 */
final class KafkaSettings {
  static final int DEFAULT_PORT = 9092;

  /**
   * Room for the key, the headers (user and reserved) and the record overhead on top of the largest
   * payload.
   */
  static final int RECORD_OVERHEAD = 256 * 1024;

  static final Parameter<Integer> PARTITIONS =
      Parameter.intValue("partitions", 4, 1, 100_000, "partitions of a topic Polybus creates");
  static final Parameter<Integer> REPLICATION =
      Parameter.intValue(
          "replication", 1, 1, Short.MAX_VALUE, "replication factor of a topic Polybus creates");
  static final Parameter<Duration> LINGER =
      Parameter.duration(
          "linger", Duration.ofMillis(5), "producer linger; shorter than publishTimeout");
  static final Parameter<Long> BATCH_SIZE =
      Parameter.bytes("batchSize", 64 * 1024, 1, 64L << 20, "producer batch");
  static final Parameter<Duration> PUBLISH_TIMEOUT =
      Parameter.duration(
          "publishTimeout",
          Duration.ofSeconds(30),
          Duration.ofSeconds(1),
          Parameters.MAX_DURATION,
          "bound of topic creation and of delivery");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes("maxPayload", 1 << 20, 1, 64L << 20, "the largest payload accepted");
  static final Parameter<Duration> COMMIT_INTERVAL =
      Parameter.duration(
          "commitInterval", Duration.ofMillis(100), "how often offsets are committed, async");
  static final Parameter<Duration> REBALANCE_TIMEOUT =
      Parameter.duration(
          "rebalanceTimeout",
          Duration.ofSeconds(10),
          "how long a revoked partition waits for records still being handled");
  static final Parameter<Duration> JOIN_TIMEOUT =
      Parameter.duration(
          "joinTimeout", Duration.ofSeconds(30), "how long subscribe waits for partitions");
  static final Parameter<Boolean> TLS = Parameter.bool("tls", false, "TLS to the brokers");
  static final Parameter<String> SASL =
      Parameter.choice(
          "sasl",
          "plain",
          "SASL mechanism, used with a URI user",
          "plain",
          "scram-sha-256",
          "scram-sha-512");
  static final List<Parameter<?>> PARAMETERS =
      List.of(
          PARTITIONS,
          REPLICATION,
          LINGER,
          BATCH_SIZE,
          PUBLISH_TIMEOUT,
          MAX_PAYLOAD,
          COMMIT_INTERVAL,
          REBALANCE_TIMEOUT,
          JOIN_TIMEOUT,
          TLS,
          SASL);

  final PolybusOptions options;
  final String bootstrap;
  final int partitions;
  final short replication;
  final Duration linger;
  final int batchSize;
  final Duration publishTimeout;
  final int maxPayload;
  final Duration commitInterval;
  final Duration rebalanceTimeout;
  final Duration joinTimeout;
  private final Map<String, Object> security;
  private final Map<String, String> common = new HashMap<>();
  private final Map<String, String> producerOnly = new HashMap<>();
  private final Map<String, String> consumerOnly = new HashMap<>();
  private final Map<String, String> adminOnly = new HashMap<>();

  KafkaSettings(PolybusOptions options) {
    this.options = options;
    if (options.hosts().isEmpty()) {
      throw new ConfigurationException(
          "the kafka backend needs at least one broker, as in "
              + "'kafka://127.0.0.1:9092', got '"
              + options.redacted()
              + "'");
    }
    if (!options.path().isEmpty() && !options.path().equals("/")) {
      throw new ConfigurationException(
          "the kafka backend takes no path, got '"
              + options.path()
              + "' in '"
              + options.redacted()
              + "'");
    }
    List<String> hosts = new ArrayList<>();
    for (String h : options.hosts()) {
      // A bracketed IPv6 literal has colons of its own; only a colon after the bracket starts a
      // port.
      int close = h.lastIndexOf(']');
      boolean hasPort = h.lastIndexOf(':') > close;
      hosts.add(hasPort ? h : h + ":" + DEFAULT_PORT);
    }
    this.bootstrap = String.join(",", hosts);
    Parameters p = Parameters.of(options, PARAMETERS);
    this.partitions = p.get(PARTITIONS);
    this.replication = (short) (int) p.get(REPLICATION);
    this.linger = p.get(LINGER);
    this.batchSize = (int) (long) p.get(BATCH_SIZE);
    this.publishTimeout = p.get(PUBLISH_TIMEOUT);
    this.maxPayload = (int) (long) p.get(MAX_PAYLOAD);
    this.commitInterval = p.get(COMMIT_INTERVAL);
    this.rebalanceTimeout = p.get(REBALANCE_TIMEOUT);
    this.joinTimeout = p.get(JOIN_TIMEOUT);
    boolean tls = p.get(TLS);
    String mechanism = p.get(SASL);
    p.requireAllRead();
    if (linger.compareTo(publishTimeout) >= 0) {
      throw new ConfigurationException(
          "parameter 'linger' in '" + options.redacted() + "' must be shorter than publishTimeout");
    }
    this.security = security(options, tls, mechanism);
    for (Map.Entry<String, String> e : options.nativeSettings().entrySet()) {
      String k = e.getKey();
      if (k.startsWith("producer.")) {
        producerOnly.put(k.substring("producer.".length()), e.getValue());
      } else if (k.startsWith("consumer.")) {
        consumerOnly.put(k.substring("consumer.".length()), e.getValue());
      } else if (k.startsWith("admin.")) {
        adminOnly.put(k.substring("admin.".length()), e.getValue());
      } else {
        common.put(k, e.getValue());
      }
    }
  }

  private static Map<String, Object> security(
      PolybusOptions options, boolean tls, String mechanism) {
    Map<String, Object> m = new HashMap<>();
    if (options.user() == null) {
      if (tls) {
        m.put("security.protocol", "SSL");
      }
      return m;
    }
    m.put("security.protocol", tls ? "SASL_SSL" : "SASL_PLAINTEXT");
    m.put("sasl.mechanism", mechanism.toUpperCase(Locale.ROOT));
    String module =
        mechanism.equals("plain")
            ? "org.apache.kafka.common.security.plain.PlainLoginModule"
            : "org.apache.kafka.common.security.scram.ScramLoginModule";
    String password = options.password() == null ? "" : options.password();
    m.put(
        "sasl.jaas.config",
        module
            + " required username=\""
            + jaasEscape(options.user())
            + "\" password=\""
            + jaasEscape(password)
            + "\";");
    return m;
  }

  private static String jaasEscape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  /** The largest record a topic created by Polybus accepts, and the producer may send. */
  int maxRecordBytes() {
    return maxPayload + RECORD_OVERHEAD;
  }

  private Map<String, Object> base(String role) {
    Map<String, Object> m = new HashMap<>();
    m.put("bootstrap.servers", bootstrap);
    m.put("client.id", "polybus-" + role);
    m.putAll(security);
    return m;
  }

  /**
   * Producer: idempotent, {@code acks=all}; every wait bounded by {@code publishTimeout}: the
   * delivery of a record (including its retries), and the time {@code send} may block for metadata
   * or buffer space.
   */
  Map<String, Object> producer() {
    Map<String, Object> m = base("producer");
    m.put("acks", "all");
    m.put("enable.idempotence", "true");
    m.put("linger.ms", Long.toString(linger.toMillis()));
    m.put("batch.size", Integer.toString(batchSize));
    m.put("max.request.size", Integer.toString(maxRecordBytes()));
    long timeout = publishTimeout.toMillis();
    m.put("delivery.timeout.ms", Long.toString(timeout));
    // Well under the delivery timeout: with the two (nearly) equal, an idempotent producer under
    // load was seen to
    // leave a batch unsent until it expired, then send later batches out of sequence
    // (OutOfOrderSequenceException).
    m.put(
        "request.timeout.ms",
        Long.toString(Math.max(500, Math.min(30_000, (timeout - linger.toMillis()) / 2))));
    m.put("max.block.ms", Long.toString(timeout));
    m.putAll(common);
    m.putAll(producerOnly);
    return m;
  }

  /**
   * Consumer of one member: offsets committed by the backend only (auto-commit off, forced),
   * cooperative rebalancing so that a joining member moves only the partitions it takes, and a
   * short heartbeat so that members notice a rebalance within a second.
   */
  Map<String, Object> consumer(String group, String autoOffsetReset, int maxPollRecords) {
    Map<String, Object> m = base("consumer-" + group);
    m.put("auto.offset.reset", autoOffsetReset);
    m.put("max.poll.records", Integer.toString(maxPollRecords));
    m.put(
        "partition.assignment.strategy",
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
    m.put("heartbeat.interval.ms", "1000");
    m.put("session.timeout.ms", "10000");
    m.put("isolation.level", "read_committed");
    m.put("default.api.timeout.ms", Long.toString(Math.max(publishTimeout.toMillis(), 10_000)));
    m.putAll(common);
    m.putAll(consumerOnly);
    // Not overridable: Polybus owns the group membership and the commits.
    m.put("group.id", group);
    m.put("enable.auto.commit", "false");
    if ("consumer".equalsIgnoreCase(String.valueOf(m.get("group.protocol")))) {
      // The KIP-848 protocol assigns on the broker and owns the heartbeat: these client settings
      // are refused there.
      m.remove("partition.assignment.strategy");
      m.remove("heartbeat.interval.ms");
      m.remove("session.timeout.ms");
    }
    return m;
  }

  /** Admin client: topic creation and group offsets, bounded by {@code publishTimeout}. */
  Map<String, Object> admin() {
    Map<String, Object> m = base("admin");
    long timeout = publishTimeout.toMillis();
    m.put("default.api.timeout.ms", Long.toString(timeout));
    m.put("request.timeout.ms", Long.toString(Math.max(500, Math.min(timeout / 2, 30_000))));
    m.putAll(common);
    m.putAll(adminOnly);
    return m;
  }

  /** Settings for topics Polybus creates: room for the largest payload plus headers. */
  Map<String, String> topicConfig() {
    return Map.of("max.message.bytes", Integer.toString(maxRecordBytes()));
  }
}
