package io.polybus.redis;

import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.UnifiedJedis;

/**
 * Serves {@code redis://} and {@code rediss://} (TLS) URIs: Polybus on Redis Streams (standalone
 * Redis 7).
 *
 * <p>URI: {@code redis://[user:password@]host[:6379][/db][?param=value&...]} ({@code
 * redis://:password@host} for a password without an ACL user). Parameters:
 *
 * <ul>
 *   <li>{@code prefix}: prepended to every key (default {@code polybus:}); a topic {@code orders}
 *       is the stream {@code polybus:orders}.
 *   <li>{@code partitions}: 0 (default) for one stream per topic; N (1..1024) for N streams {@code
 *       <prefix><topic>:p<i>} by key hash, each read by one member of a group at a time, which
 *       gives ordering by key. Every bus of a topic must use the same value.
 *   <li>{@code maxLen}: trim each stream to about this many entries on publish ({@code XADD MAXLEN
 *       ~}); default 0, no limit. {@code retention}: trim entries older than this duration ({@code
 *       XADD MINID ~}); default none. Trimming deletes entries whether or not a group has read or
 *       settled them.
 *   <li>{@code timeout}: connect and socket timeout (default 2s). {@code publishTimeout}: the
 *       longest a publish waits to be sent (default 10s); a publish completes or fails within
 *       {@code publishTimeout + timeout}.
 *   <li>{@code maxPayload}: the largest payload (default 1 MiB, at most 64 MiB). {@code pool}:
 *       connections per bus (default 32; each subscription holds one while it waits for entries).
 * </ul>
 *
 * Native settings ({@code polybus.redis.<name>}): {@code clientName}, {@code
 * connectionTimeoutMillis}, {@code socketTimeoutMillis}, {@code maxTotal}, {@code maxIdle}, {@code
 * minIdle}.
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}; connects only in
 * {@link #open}.
 */
public final class RedisBackendProvider implements BackendProvider {
  static final Parameter<String> PREFIX =
      Parameter.string("prefix", "polybus:", "start of every key");
  static final Parameter<Integer> PARTITIONS =
      Parameter.intValue(
          "partitions",
          0,
          0,
          1024,
          "0: one stream per topic; N: N streams by key hash, ordered by key");
  static final Parameter<Long> MAX_LEN =
      Parameter.longValue(
          "maxLen",
          0,
          0,
          Long.MAX_VALUE,
          "trim to about N entries per stream (XADD MAXLEN ~); 0 keeps all");
  static final Parameter<Duration> RETENTION =
      Parameter.duration(
          "retention", Duration.ZERO, "trim entries older than this (XADD MINID ~); 0 keeps all");
  static final Parameter<Duration> TIMEOUT =
      Parameter.duration("timeout", Duration.ofSeconds(2), "connect and socket timeout");
  static final Parameter<Duration> PUBLISH_TIMEOUT =
      Parameter.duration("publishTimeout", Duration.ofSeconds(10), "bound of a publish");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes("maxPayload", 1 << 20, 1, 64L << 20, "the largest payload accepted");
  static final Parameter<Integer> POOL =
      Parameter.intValue(
          "pool",
          32,
          2,
          10_000,
          "connections per bus; each subscription holds one while it waits for entries");
  static final List<Parameter<?>> PARAMETERS =
      List.of(PREFIX, PARTITIONS, MAX_LEN, RETENTION, TIMEOUT, PUBLISH_TIMEOUT, MAX_PAYLOAD, POOL);

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<String> schemes() {
    return Set.of("redis", "rediss");
  }

  @Override
  public String description() {
    return "Redis Streams";
  }

  @Override
  @SuppressWarnings(
      "deprecation") // ssl(boolean): the plain JDK TLS defaults are what rediss:// means here
  public Backend open(PolybusOptions options) {
    RedisSettings s = settings(options);
    Map<String, String> nat = new HashMap<>(options.nativeSettings());
    DefaultJedisClientConfig.Builder client =
        DefaultJedisClientConfig.builder()
            .protocol(RedisProtocol.RESP2)
            .connectionTimeoutMillis(
                intSetting(nat, "connectionTimeoutMillis", (int) s.timeout().toMillis(), options))
            .socketTimeoutMillis(
                intSetting(nat, "socketTimeoutMillis", (int) s.timeout().toMillis(), options))
            .database(s.database())
            .ssl(s.tls())
            .clientName(stringSetting(nat, "clientName", s.clientName()));
    if (s.password() != null) {
      client.password(s.password());
      if (s.user() != null) {
        client.user(s.user());
      }
    }
    GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
    pool.setMaxTotal(intSetting(nat, "maxTotal", s.poolSize(), options));
    pool.setMaxIdle(intSetting(nat, "maxIdle", s.poolSize(), options));
    pool.setMinIdle(intSetting(nat, "minIdle", 0, options));
    pool.setMaxWait(s.timeout());
    pool.setJmxEnabled(false);
    if (!nat.isEmpty()) {
      throw new ConfigurationException(
          "unknown native setting"
              + (nat.size() > 1 ? "s " : " ")
              + nat.keySet()
              + " for '"
              + options.redacted()
              + "'; the redis backend accepts clientName, connectionTimeoutMillis,"
              + " socketTimeoutMillis, maxTotal, maxIdle, minIdle");
    }
    UnifiedJedis redis =
        RedisClient.builder()
            .hostAndPort(s.host(), s.port())
            .clientConfig(client.build())
            .poolConfig(pool)
            .build();
    try {
      redis.ping();
    } catch (RuntimeException e) {
      redis.close();
      throw RedisErrors.map(e, "connect", s) instanceof io.polybus.AuthenticationException a
          ? a
          : new BrokerUnavailableException(
              "cannot reach redis at "
                  + s.where()
                  + " for '"
                  + options.redacted()
                  + "': "
                  + e.getMessage(),
              e);
    }
    return new RedisBackend(s, redis);
  }

  static RedisSettings settings(PolybusOptions options) {
    if (options.hosts().size() > 1) {
      throw new ConfigurationException(
          "the redis backend takes one host, got "
              + options.hosts().size()
              + " in '"
              + options.redacted()
              + "'");
    }
    String host = "localhost";
    int port = 6379;
    if (!options.hosts().isEmpty()) {
      String h = options.hosts().get(0);
      int colon = h.lastIndexOf(':');
      if (colon > 0 && !h.endsWith("]")) {
        host = h.substring(0, colon);
        try {
          port = Integer.parseInt(h.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
        if (port < 1 || port > 65535) {
          throw new ConfigurationException("invalid port in '" + options.redacted() + "'");
        }
      } else {
        host = h;
      }
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
    }
    int database = 0;
    String path = options.path();
    if (!path.isEmpty() && !path.equals("/")) {
      try {
        database = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        database = -1;
      }
      if (database < 0) {
        throw new ConfigurationException(
            "the path of a redis URI is the database number (/0, /1, ...), got '"
                + path
                + "' in '"
                + options.redacted()
                + "'");
      }
    }
    Parameters p = Parameters.of(options, PARAMETERS);
    String prefix = p.get(PREFIX);
    int partitions = p.get(PARTITIONS);
    long maxLen = p.get(MAX_LEN);
    Duration retention = p.get(RETENTION);
    Duration timeout = p.get(TIMEOUT);
    Duration publishTimeout = p.get(PUBLISH_TIMEOUT);
    int maxPayload = (int) (long) p.get(MAX_PAYLOAD);
    int poolSize = p.get(POOL);
    p.requireAllRead();
    if (prefix.chars().anyMatch(c -> c <= ' ' || c == '{' || c == '}')) {
      throw new ConfigurationException(
          "parameter 'prefix' must have no spaces, control characters or braces, in '"
              + options.redacted()
              + "'");
    }
    if (maxLen > 0 && !retention.isZero()) {
      throw new ConfigurationException(
          "give either 'maxLen' or 'retention', not both, in '" + options.redacted() + "'");
    }
    if (timeout.isZero() || timeout.toMillis() > Integer.MAX_VALUE || publishTimeout.isZero()) {
      throw new ConfigurationException(
          "'timeout' must be between 1ms and "
              + Integer.MAX_VALUE
              + "ms (the client"
              + " counts it in an int) and 'publishTimeout' positive, in '"
              + options.redacted()
              + "'");
    }
    String user = options.user() == null || options.user().isEmpty() ? null : options.user();
    return new RedisSettings(
        host,
        port,
        database,
        user,
        options.password(),
        options.scheme().equals("rediss"),
        prefix,
        partitions,
        maxLen,
        retention,
        timeout,
        publishTimeout,
        maxPayload,
        poolSize,
        "polybus");
  }

  private static String stringSetting(Map<String, String> nat, String name, String dflt) {
    String v = nat.remove(name);
    return v == null ? dflt : v;
  }

  private static int intSetting(
      Map<String, String> nat, String name, int dflt, PolybusOptions options) {
    String v = nat.remove(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigurationException(
          "native setting '"
              + name
              + "' must be an integer, was '"
              + v
              + "', for '"
              + options.redacted()
              + "'");
    }
  }
}
