package io.polybus.inmemory;

import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.util.List;
import java.util.Set;

/**
 * Serves {@code mem:} URIs: a broker inside this JVM with the full Polybus semantics.
 *
 * <p>URI: {@code mem:[name][?retention=<messages>&maxPayload=<bytes>]}. Buses opened with the same
 * name share one broker (so a publisher bus and a subscriber bus in one test see each other);
 * {@code mem:} is the name {@code default}. A broker's state lives while at least one bus on it is
 * open and is discarded when the last one closes, as if the broker process had stopped.
 *
 * <ul>
 *   <li>{@code retention}: how many messages per topic are kept for replay beyond what groups still
 *       need (default 1,000,000). Messages a group has not settled yet are never discarded.
 *   <li>{@code maxPayload}: the largest payload accepted (default 1 MiB, at most 256 MiB).
 * </ul>
 *
 * It has no native client, so any native setting ({@code polybus.mem.*}) is refused.
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}.
 */
public final class InMemoryBackendProvider implements BackendProvider {
  static final Parameter<Long> RETENTION =
      Parameter.longValue(
          "retention",
          1_000_000L,
          0,
          Long.MAX_VALUE,
          "messages kept per topic for replay beyond what groups still need");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes("maxPayload", 1 << 20, 1, 256L << 20, "the largest payload accepted");
  static final List<Parameter<?>> PARAMETERS = List.of(RETENTION, MAX_PAYLOAD);

  @Override
  public Set<String> schemes() {
    return Set.of("mem");
  }

  @Override
  public String description() {
    return "in-memory, within one JVM";
  }

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Backend open(PolybusOptions options) {
    if (!options.hosts().isEmpty() || options.user() != null) {
      throw new io.polybus.ConfigurationException(
          "the mem backend takes no host or user: use 'mem:' or 'mem:<name>', got '"
              + options.redacted()
              + "'");
    }
    Parameters p = Parameters.of(options, PARAMETERS);
    long retention = p.get(RETENTION);
    int maxPayload = (int) (long) p.get(MAX_PAYLOAD);
    p.requireAllRead();
    p.rejectNativeSettings();
    String name = options.path().isEmpty() ? "default" : options.path();
    if (!io.polybus.spi.PortableNames.isPortable(name)) {
      throw new io.polybus.ConfigurationException(
          "the mem broker name '"
              + name
              + "' must be a portable name (1 to 100 of [A-Za-z0-9._-]), in '"
              + options.redacted()
              + "'");
    }
    return new InMemoryBackend(MemBroker.acquire(name, retention), maxPayload);
  }
}
