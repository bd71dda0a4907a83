package io.polybus.rabbitmq;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ConnectionFactoryConfigurator;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import io.polybus.AuthenticationException;
import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * Serves {@code rabbitmq://}, {@code amqp://} and {@code amqps://} URIs: RabbitMQ over AMQP 0-9-1
 * with the {@code com.rabbitmq:amqp-client} library.
 *
 * <p>URI: {@code rabbitmq://[user[:password]@]host[:port][,host[:port]...][/vhost][?parameters]}.
 * Defaults: user and password {@code guest}, port 5672 (5671 for {@code amqps}), the virtual host
 * {@code /} (write another as the path; percent-encode a {@code /} inside it). {@code amqps} uses
 * TLS with the JVM's default trust store and verifies the host name. Parameters:
 *
 * <ul>
 *   <li>{@code partitions} (default 1): with 2 or more, each group is that many quorum queues with
 *       a single active consumer each, messages are routed to them by key hash, and {@code
 *       Ordering.KEY} is available. Every bus that publishes to or consumes from a topic must use
 *       the same value.
 *   <li>{@code publishTimeout} (default 30s): a publish not confirmed by then fails with {@code
 *       PolybusTimeoutException}.
 *   <li>{@code connectTimeout} (default 10s): TCP connect and AMQP handshake.
 *   <li>{@code maxPayload} (default 16m, at most 128m, RabbitMQ's default {@code
 *       max_message_size}).
 *   <li>{@code connectionName} (default {@code polybus}): the bus's two connections are named
 *       {@code <name>-publish} and {@code <name>-consume} in the broker's connection list.
 * </ul>
 *
 * Native settings ({@code polybus.rabbitmq.<name>}, also under {@code amqp} and {@code amqps}) are
 * handed to {@link ConnectionFactory#load(java.util.Map, String)}, so their names are the client's
 * own ({@code connection.heartbeat}, {@code connection.channel.max}, ...); they win over the URI. A
 * name the client does not read ({@link #NATIVE_SETTINGS}) is refused with a {@link
 * ConfigurationException} naming it and the nearest known name, before anything connects (the
 * client itself ignores it, typos too).
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}.
 */
public final class RabbitMqBackendProvider implements BackendProvider {
  static final int MAX_HEADERS = 64;

  static final Parameter<Integer> PARTITIONS =
      Parameter.intValue(
          "partitions",
          1,
          1,
          1000,
          "1: one quorum queue per group; N: N single-active-consumer queues per group by key hash, ordered by key");
  static final Parameter<Duration> PUBLISH_TIMEOUT =
      Parameter.duration(
          "publishTimeout",
          Duration.ofSeconds(30),
          "a publish not confirmed by then fails with PolybusTimeoutException");
  static final Parameter<Duration> CONNECT_TIMEOUT =
      Parameter.duration(
          "connectTimeout", Duration.ofSeconds(10), "TCP connect and AMQP handshake");
  static final Parameter<Long> MAX_PAYLOAD =
      Parameter.bytes(
          "maxPayload",
          16L << 20,
          1,
          128L << 20,
          "the largest payload accepted, at most RabbitMQ's default max_message_size");
  static final Parameter<String> CONNECTION_NAME =
      Parameter.string(
          "connectionName",
          "polybus",
          "the broker shows the bus's connections as <name>-publish and <name>-consume");
  static final List<Parameter<?>> PARAMETERS =
      List.of(PARTITIONS, PUBLISH_TIMEOUT, CONNECT_TIMEOUT, MAX_PAYLOAD, CONNECTION_NAME);

  /** Parsed options of one backend. */
  record Settings(
      int partitions, Duration publishTimeout, int maxPayloadBytes, String description) {}

  @Override
  public Set<String> schemes() {
    return Set.of("rabbitmq", "amqp", "amqps");
  }

  @Override
  public String description() {
    return "RabbitMQ (AMQP 0-9-1): quorum queues, publisher confirms";
  }

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Backend open(PolybusOptions options) {
    boolean tls = options.scheme().equals("amqps");
    Parameters p = Parameters.of(options, PARAMETERS);
    int partitions = p.get(PARTITIONS);
    Duration publishTimeout = p.get(PUBLISH_TIMEOUT);
    Duration connectTimeout = p.get(CONNECT_TIMEOUT);
    int maxPayload = (int) (long) p.get(MAX_PAYLOAD);
    String connectionName = p.get(CONNECTION_NAME);
    p.requireAllRead();
    if (publishTimeout.isZero() || connectTimeout.isZero()) {
      throw new ConfigurationException(
          "publishTimeout and connectTimeout must be positive in '" + options.redacted() + "'");
    }
    int defaultPort = tls ? 5671 : 5672;
    List<Address> addresses = new ArrayList<>();
    for (String h : options.hosts().isEmpty() ? List.of("localhost") : options.hosts()) {
      addresses.add(address(h, defaultPort, options));
    }
    String path = options.path();
    String vhost = path.isEmpty() || path.equals("/") ? "/" : path.substring(1);

    ConnectionFactory cf = new ConnectionFactory();
    cf.setUsername(options.user() != null ? options.user() : "guest");
    cf.setPassword(options.password() != null ? options.password() : "guest");
    cf.setVirtualHost(vhost);
    cf.setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    cf.setHandshakeTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
    cf.setAutomaticRecoveryEnabled(true);
    cf.setTopologyRecoveryEnabled(true);
    cf.setNetworkRecoveryInterval(1000);
    // The broker requeues a silent member's deliveries after two missed heartbeats: 10 s keeps that
    // under the
    // default ackTimeout (30 s). A crashed process's connection closes at once anyway.
    cf.setRequestedHeartbeat(10);
    // A topology call (declare, bind) waits at most this long for its reply instead of the default
    // 10 minutes.
    cf.setChannelRpcTimeout(
        (int) Math.min(Integer.MAX_VALUE, Math.max(connectTimeout.toMillis(), 10_000)));
    if (tls) {
      try {
        cf.useSslProtocol(SSLContext.getDefault());
        cf.enableHostnameVerification();
      } catch (NoSuchAlgorithmException e) {
        throw new ConfigurationException(
            "no default TLS context in this JVM for '" + options.redacted() + "'", e);
      }
    }
    if (!options.nativeSettings().isEmpty()) {
      checkNativeSettings(options);
      try {
        cf.load(options.nativeSettings(), "");
      } catch (RuntimeException e) {
        // A number that is not one, a key store that cannot be read: the client says what, not
        // which setting.
        throw new ConfigurationException(
            "the RabbitMQ client refused the native settings "
                + options.nativeSettings().keySet()
                + " of '"
                + options.redacted()
                + "': "
                + e.getMessage(),
            e);
      }
    }
    String description = options.redacted();
    Settings settings = new Settings(partitions, publishTimeout, maxPayload, description);
    Connection publish = connect(cf, addresses, connectionName + "-publish", description);
    try {
      Connection consume = connect(cf, addresses, connectionName + "-consume", description);
      return new RabbitMqBackend(settings, publish, consume);
    } catch (RuntimeException e) {
      try {
        publish.close(1000);
      } catch (IOException | RuntimeException ignored) {
        // reporting the first failure
      }
      throw e;
    }
  }

  /**
   * The setting names {@link ConnectionFactory#load(java.util.Map, String)} reads: the key
   * constants of {@link ConnectionFactoryConfigurator} (so a newer client's new keys are known
   * without a change here), the {@code uri} it also reads, and its Spring-Boot-style aliases of the
   * {@code ssl.} keys, which write the dots after {@code ssl.} as dashes ({@code ssl.key-store} for
   * {@code ssl.key.store}). Names under {@code client.properties.} are free-form.
   */
  static final java.util.SortedSet<String> NATIVE_SETTINGS = nativeSettingNames();

  private static java.util.SortedSet<String> nativeSettingNames() {
    java.util.SortedSet<String> names = new java.util.TreeSet<>();
    names.add("uri");
    for (java.lang.reflect.Field f : ConnectionFactoryConfigurator.class.getFields()) {
      if (f.getType() != String.class || !java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
        continue;
      }
      try {
        String name = (String) f.get(null);
        // Leaves out the prefixes ("rabbitmq.", "client.properties.") and values that are no keys
        // ("PEM").
        if (name != null && name.matches("[a-z][a-z0-9.]*[a-z0-9]")) {
          names.add(name);
          if (name.startsWith("ssl.") && name.indexOf('.', 4) > 0) {
            names.add("ssl." + name.substring(4).replace('.', '-'));
          }
        }
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot read " + f, e);
      }
    }
    return java.util.Collections.unmodifiableSortedSet(names);
  }

  /**
   * Refuses a native setting the client would ignore (it ignores every name it does not read, typos
   * too).
   */
  private static void checkNativeSettings(PolybusOptions options) {
    List<String> unknown = new ArrayList<>();
    for (String name : options.nativeSettings().keySet()) {
      if (!NATIVE_SETTINGS.contains(name)
          && !name.startsWith(ConnectionFactoryConfigurator.CLIENT_PROPERTIES_PREFIX)) {
        unknown.add(name);
      }
    }
    if (unknown.isEmpty()) {
      return;
    }
    StringBuilder msg = new StringBuilder("unknown RabbitMQ native setting");
    msg.append(unknown.size() > 1 ? "s " : " ")
        .append(unknown)
        .append(" for '")
        .append(options.redacted())
        .append("'");
    for (String name : unknown) {
      String nearest = nearest(name);
      if (nearest != null) {
        msg.append("; did you mean '").append(nearest).append("' for '").append(name).append("'?");
      }
    }
    msg.append(" The client (ConnectionFactory.load) reads ")
        .append(String.join(", ", NATIVE_SETTINGS))
        .append(" and client.properties.<name>");
    throw new ConfigurationException(msg.toString());
  }

  /**
   * The known name closest to {@code name} by edit distance, if it is close enough to be a typo of
   * it.
   */
  private static String nearest(String name) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : NATIVE_SETTINGS) {
      int d = editDistance(name, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return bestDistance <= Math.max(2, name.length() / 4) ? best : null;
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  private static Address address(String hostPort, int defaultPort, PolybusOptions options) {
    String host = hostPort;
    int port = defaultPort;
    int colon = hostPort.lastIndexOf(':');
    if (colon > 0 && hostPort.indexOf(']') < colon) {
      host = hostPort.substring(0, colon);
      try {
        port = Integer.parseInt(hostPort.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new ConfigurationException("bad port in '" + options.redacted() + "'");
      }
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new Address(host, port);
  }

  private static Connection connect(
      ConnectionFactory cf, List<Address> addresses, String name, String description) {
    try {
      return cf.newConnection(addresses, name);
    } catch (PossibleAuthenticationFailureException e) {
      throw new AuthenticationException("RabbitMQ refused the credentials for " + description, e);
    } catch (IOException | TimeoutException e) {
      String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
      throw new BrokerUnavailableException(
          "cannot connect to RabbitMQ at " + description + ": " + why, e);
    }
  }
}
