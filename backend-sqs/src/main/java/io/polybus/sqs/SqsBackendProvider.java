package io.polybus.sqs;

import io.polybus.ConfigurationException;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.Parameter;
import io.polybus.spi.Parameters;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

/**
 * Serves {@code sqs:} URIs: Polybus on Amazon SQS (AWS SDK for Java v2) or an SQS-compatible
 * server.
 *
 * <p>URI: {@code sqs://[accessKeyId:secretAccessKey@]host:port[?param=value&...]} for a custom
 * endpoint (plain HTTP, or HTTPS with {@code tls=true}), {@code sqs:?region=eu-west-1} for AWS's
 * own endpoint of a region. Parameters:
 *
 * <ul>
 *   <li>{@code region}: the signing region (required for AWS unless the SDK's default region chain
 *       finds one; {@code us-east-1} for a custom endpoint).
 *   <li>{@code fifo}: {@code true} for FIFO queues ordered by key (default {@code false}).
 *   <li>{@code prefix}: the start of every queue name (default {@code polybus-}), at most 29
 *       characters of {@code [A-Za-z0-9_-]}.
 *   <li>{@code timeout}: the bound of each SQS call, the SDK's retries included (default 10s).
 *   <li>{@code maxMessageSize}: what SQS accepts per message, body and attributes (default 256k, at
 *       most 1m; AWS accepts 1 MiB on queues whose {@code MaximumMessageSize} allows it).
 *   <li>{@code refresh}: how long the list of a topic's group queues is trusted before it is listed
 *       again (default 1s).
 *   <li>{@code wait}: the long-poll wait of a receive, whole seconds (default 1s, at most 20s).
 *   <li>{@code publishers}: threads that send publishes, the most calls in flight (default 16; idle
 *       ones exit after 30 s).
 *   <li>{@code maxReceiveCount}: 0 (default) for none; N sets a RedrivePolicy on every group queue
 *       this bus makes: SQS itself moves a message received N times to the {@code dlq} group queue
 *       of the default dead-letter topic {@code <topic>.<group>.dlq}. A safety net for messages
 *       that never reach the runtime; set it to the subscriptions' {@code maxAttempts + 1}, so that
 *       the runtime, which dead-letters on receive {@code maxAttempts + 1}, always goes first.
 *   <li>{@code accessKeyId}, {@code secretAccessKey}, {@code sessionToken}: static credentials
 *       (also as the URI's user info); Polybus never shows the secret or the token, but two loggers
 *       of other libraries do log the token when verbose ({@link #SDK_SIGNER_LOGGER} at DEBUG,
 *       {@link #JDK_HTTP_LOGGER} at FINE), and {@link #open} warns when they are. Without them: the
 *       SDK's default provider chain for AWS, placeholder credentials for a custom endpoint.
 *   <li>{@code tls}: HTTPS to a custom endpoint (default {@code false}).
 * </ul>
 *
 * <p>Thread-safe and stateless; instantiated by {@link java.util.ServiceLoader}; connects only in
 * {@link #open}.
 */
public final class SqsBackendProvider implements BackendProvider {
  /**
   * The AWS SDK's SigV4 request signer logs each canonical request at DEBUG through SLF4J, on this
   * logger (its class name); a canonical request holds every signed header, the session token's
   * {@code x-amz-security-token} too.
   */
  static final String SDK_SIGNER_LOGGER =
      "software.amazon.awssdk.http.auth.aws.internal.signer.DefaultV4RequestSigner";

  /**
   * The JDK's HttpURLConnection, which the SDK's url-connection-client sends requests with, logs
   * every request's headers at FINE ({@link System.Logger.Level#DEBUG}) on this logger, the session
   * token's and the signature too.
   */
  static final String JDK_HTTP_LOGGER = "sun.net.www.protocol.http.HttpURLConnection";

  private static final System.Logger LOG = System.getLogger("io.polybus.sqs");

  static final Parameter<String> REGION =
      Parameter.string(
          "region",
          null,
          "signing region; us-east-1 for a custom endpoint, else the SDK's default region chain");
  static final Parameter<Boolean> FIFO =
      Parameter.bool("fifo", false, "FIFO queues, ordered by key");
  static final Parameter<String> PREFIX =
      Parameter.string(
          "prefix", "polybus-", "start of every queue name, at most 29 of [A-Za-z0-9_-]");
  static final Parameter<Duration> TIMEOUT =
      Parameter.duration(
          "timeout", Duration.ofSeconds(10), "bound of each SQS call, SDK retries included");
  static final Parameter<Long> MAX_MESSAGE_SIZE =
      Parameter.bytes(
          "maxMessageSize",
          256 * 1024,
          64 * 1024,
          1024 * 1024,
          "largest SQS message, body plus attributes");
  static final Parameter<Duration> REFRESH =
      Parameter.duration(
          "refresh", Duration.ofSeconds(1), "how long a topic's list of group queues is trusted");
  static final Parameter<Duration> WAIT =
      Parameter.duration("wait", Duration.ofSeconds(1), "long poll, whole seconds, at most 20s");
  static final Parameter<Integer> PUBLISHERS =
      Parameter.intValue("publishers", 16, 1, 64, "sender threads");
  static final Parameter<Integer> MAX_RECEIVE_COUNT =
      Parameter.intValue(
          "maxReceiveCount",
          0,
          0,
          1000,
          "0: none; N: a RedrivePolicy moving a message received N times to its dead-letter queue");
  static final Parameter<String> ACCESS_KEY_ID =
      Parameter.string("accessKeyId", null, "static credentials' key id (or the URI's user)");
  static final Parameter<String> SECRET_ACCESS_KEY =
      Parameter.string(
              "secretAccessKey", null, "static credentials' secret (or the URI's password)")
          .secret();
  static final Parameter<String> SESSION_TOKEN =
      Parameter.string("sessionToken", null, "session token of temporary static credentials")
          .secret();
  static final Parameter<Boolean> TLS = Parameter.bool("tls", false, "HTTPS to a custom endpoint");
  static final List<Parameter<?>> PARAMETERS =
      List.of(
          REGION,
          FIFO,
          PREFIX,
          TIMEOUT,
          MAX_MESSAGE_SIZE,
          REFRESH,
          WAIT,
          PUBLISHERS,
          MAX_RECEIVE_COUNT,
          ACCESS_KEY_ID,
          SECRET_ACCESS_KEY,
          SESSION_TOKEN,
          TLS);

  @Override
  public List<Parameter<?>> parameters() {
    return PARAMETERS;
  }

  @Override
  public Set<String> schemes() {
    return Set.of("sqs");
  }

  @Override
  public String description() {
    return "Amazon SQS";
  }

  @Override
  public Backend open(PolybusOptions options) {
    SqsSettings s = settings(options);
    Parameters.of(options).rejectNativeSettings();
    if (s.sessionToken() != null) {
      // Polybus cannot lower another library's logger (SLF4J has no such call, and the logging
      // setup is the
      // application's), but it can say so before the first request is signed.
      if (org.slf4j.LoggerFactory.getLogger(SDK_SIGNER_LOGGER).isDebugEnabled()) {
        warnLeak(SDK_SIGNER_LOGGER, "DEBUG", options);
      }
      if (System.getLogger(JDK_HTTP_LOGGER).isLoggable(System.Logger.Level.DEBUG)) {
        warnLeak(JDK_HTTP_LOGGER, "FINE (DEBUG)", options);
      }
    }
    SqsClient client = client(s);
    return new SqsBackend(s, client);
  }

  static SqsClient client(SqsSettings s) {
    SqsClientBuilder b =
        SqsClient.builder()
            // The JDK's HttpURLConnection: no dependency beyond the SDK itself; the JDK keeps
            // connections alive.
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofMillis(Math.min(2000, s.timeout().toMillis())))
                    .socketTimeout(s.longPoll().plus(s.timeout()))
                    .build())
            .region(Region.of(s.region()))
            .credentialsProvider(credentials(s))
            .overrideConfiguration(
                ClientOverrideConfiguration.builder()
                    // A long poll waits up to `wait` on the server; every other call is bounded by
                    // `timeout` alone.
                    .apiCallTimeout(s.timeout().plus(s.longPoll()))
                    .build());
    if (s.endpoint() != null) {
      b.endpointOverride(s.endpoint());
    }
    return b.build();
  }

  private static void warnLeak(String logger, String level, PolybusOptions options) {
    LOG.log(
        System.Logger.Level.WARNING,
        () ->
            "logger "
                + logger
                + " is at "
                + level
                + ": it will log the session"
                + " token of '"
                + options.redacted()
                + "' with every request (X-Amz-Security-Token); set it to INFO or higher");
  }

  private static AwsCredentialsProvider credentials(SqsSettings s) {
    if (s.accessKeyId() != null) {
      return StaticCredentialsProvider.create(
          s.sessionToken() != null
              ? AwsSessionCredentials.create(s.accessKeyId(), s.secretAccessKey(), s.sessionToken())
              : AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey()));
    }
    if (s.endpoint() != null) {
      // Local SQS-compatible servers (ElasticMQ) do not check signatures; asking the default chain
      // would probe
      // instance metadata over the network for nothing.
      return StaticCredentialsProvider.create(AwsBasicCredentials.create("polybus", "polybus"));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  static SqsSettings settings(PolybusOptions options) {
    if (options.hosts().size() > 1) {
      throw new ConfigurationException(
          "the sqs backend takes one endpoint host, got "
              + options.hosts().size()
              + " in '"
              + options.redacted()
              + "'");
    }
    if (!options.path().isEmpty() && !options.path().equals("/")) {
      throw new ConfigurationException(
          "an sqs URI has no path (queues are named after topics and groups), got '"
              + options.path()
              + "' in '"
              + options.redacted()
              + "'");
    }
    Parameters p = Parameters.of(options, PARAMETERS);
    boolean custom = !options.hosts().isEmpty();
    String region = p.get(REGION);
    boolean fifo = p.get(FIFO);
    String prefix = p.get(PREFIX);
    Duration timeout = p.get(TIMEOUT);
    int maxMessageSize = (int) (long) p.get(MAX_MESSAGE_SIZE);
    Duration refresh = p.get(REFRESH);
    Duration wait = p.get(WAIT);
    int publishers = p.get(PUBLISHERS);
    int maxReceiveCount = p.get(MAX_RECEIVE_COUNT);
    String accessKeyId = p.get(ACCESS_KEY_ID);
    String secretAccessKey = p.get(SECRET_ACCESS_KEY);
    String sessionToken = p.get(SESSION_TOKEN);
    boolean tls = p.get(TLS);
    p.requireAllRead();
    if (options.user() != null && !options.user().isEmpty()) {
      if (accessKeyId != null) {
        throw new ConfigurationException(
            "give the access key either as the URI's user or as 'accessKeyId', not both,"
                + " in '"
                + options.redacted()
                + "'");
      }
      accessKeyId = options.user();
      secretAccessKey = options.password();
    }
    if ((accessKeyId == null) != (secretAccessKey == null)) {
      throw new ConfigurationException(
          "static credentials need both an access key id and a secret access key, in '"
              + options.redacted()
              + "'");
    }
    if (sessionToken != null && accessKeyId == null) {
      throw new ConfigurationException(
          "'sessionToken' needs static credentials, in '" + options.redacted() + "'");
    }
    int maxPrefix = SqsNames.maxPrefixLength(true);
    if (!prefix.matches("[A-Za-z0-9_-]*") || prefix.length() > maxPrefix) {
      throw new ConfigurationException(
          "parameter 'prefix' must be at most "
              + maxPrefix
              + " characters of [A-Za-z0-9_-], in '"
              + options.redacted()
              + "'");
    }
    if (timeout.isZero()) {
      throw new ConfigurationException(
          "'timeout' must be positive, in '" + options.redacted() + "'");
    }
    if (wait.toMillis() % 1000 != 0 || wait.getSeconds() > 20) {
      throw new ConfigurationException(
          "'wait' must be whole seconds from 0 to 20s, in '" + options.redacted() + "'");
    }
    URI endpoint = null;
    if (custom) {
      String h = options.hosts().get(0);
      try {
        endpoint = new URI((tls ? "https://" : "http://") + h);
        if (endpoint.getHost() == null) {
          throw new IllegalArgumentException("no host");
        }
      } catch (Exception e) {
        throw new ConfigurationException(
            "invalid endpoint host '" + h + "' in '" + options.redacted() + "'");
      }
      if (region == null) {
        region = "us-east-1";
      }
    } else if (tls) {
      throw new ConfigurationException(
          "'tls' applies to a custom endpoint only (AWS is always HTTPS), in '"
              + options.redacted()
              + "'");
    }
    if (region == null) {
      try {
        region =
            new software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain()
                .getRegion()
                .id();
      } catch (RuntimeException e) {
        throw new ConfigurationException(
            "no region: add '?region=...' to '"
                + options.redacted()
                + "' (the SDK's default region chain found none)",
            e);
      }
    }
    if (!region.matches("[a-z0-9-]+")) {
      throw new ConfigurationException(
          "invalid region '" + region + "' in '" + options.redacted() + "'");
    }
    return new SqsSettings(
        endpoint,
        region,
        accessKeyId,
        secretAccessKey,
        sessionToken,
        fifo,
        prefix,
        timeout,
        maxMessageSize,
        refresh,
        wait,
        publishers,
        maxReceiveCount);
  }
}
