package io.polybus.kafka;

import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import java.util.List;
import java.util.Set;

/**
 * Serves {@code kafka://} URIs: Polybus on Apache Kafka through {@code kafka-clients}.
 *
 * <p>URI: {@code kafka://[user:password@]host[:port][,host2[:port]...][?parameters]} (port 9092 by
 * default). A user turns on SASL ({@code sasl}: {@code plain} by default, {@code scram-sha-256},
 * {@code scram-sha-512}); {@code tls=true} turns on TLS. Other parameters: {@code partitions} (4)
 * and {@code replication} (1) for topics Polybus creates, {@code linger} (5ms) and {@code
 * batchSize} (64k) for the producer, {@code publishTimeout} (30s, the bound of every publish step),
 * {@code maxPayload} (1m), {@code commitInterval} (100ms), {@code rebalanceTimeout} (10s, how long
 * a revoked partition waits for records still being handled), {@code joinTimeout} (30s, how long
 * {@code subscribe} waits for the first assignment). Any kafka-clients setting can be passed as a
 * native setting {@code polybus.kafka.<setting>} (to every client) or {@code
 * polybus.kafka.producer.<setting>}, {@code polybus.kafka.consumer.<setting>}, {@code
 * polybus.kafka.admin.<setting>} (to one of them); the consumer's {@code group.id} and {@code
 * enable.auto.commit} stay Polybus's. See {@code docs/uris.md} and {@code docs/semantics.md} for
 * the mapping and the semantics.
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}. Connects nothing
 * before {@link #open}.
 */
public final class KafkaBackendProvider implements BackendProvider {
  @Override
  public Set<String> schemes() {
    return Set.of("kafka");
  }

  @Override
  public String description() {
    return "Apache Kafka (kafka-clients)";
  }

  @Override
  public List<Parameter<?>> parameters() {
    return KafkaSettings.PARAMETERS;
  }

  @Override
  public Backend open(PolybusOptions options) {
    return new KafkaBackend(new KafkaSettings(options));
  }
}
