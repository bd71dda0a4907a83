package io.polybus;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * A parsed backend address plus settings passed through to the native client.
 *
 * <p>Immutable and thread-safe. Secrets (the password of the URI's user info, and any parameter or native
 * setting whose name mentions a password, secret, token, credential or JAAS config) are kept but never shown:
 * {@link #toString()} and {@link #redacted()} print {@code ****} in their place, and Polybus's own error
 * messages use the redacted form.
 *
 * <h2>URI grammar</h2>
 * <pre>
 * uri       = scheme ":" [ "//" authority ] [ path ] [ "?" query ]
 * scheme    = letter *( letter / digit / "+" / "-" / "." )      ; case-insensitive, kept lower-case
 * authority = [ user [ ":" password ] "@" ] host [ ":" port ] *( "," host [ ":" port ] )
 * query     = name "=" value *( "&amp;" name "=" value )          ; percent-decoded, names unique
 * </pre>
 * Examples: {@code mem:}, {@code log:./data?partitions=8}, {@code kafka://h1:9092,h2:9092?acks=all},
 * {@code rabbitmq://user:secret@host:5672/vhost}. Each backend documents the parameters it accepts and rejects
 * any other one with a {@link ConfigurationException}.
 *
 * <h2>Map and Properties form</h2>
 * {@code polybus.uri} holds the URI; {@code polybus.<scheme>.<setting>=<value>} is a native setting handed to
 * that backend's client as-is (for example {@code polybus.kafka.linger.ms=5}); settings for other schemes are
 * ignored so one file can serve several backends; any other key starting with {@code polybus.} is an error; keys
 * outside {@code polybus.} are ignored.
 */
public final class PolybusOptions {
  private static final Pattern SCHEME = Pattern.compile("[a-z][a-z0-9+.-]*");
  private static final Pattern SECRET_NAME =
      Pattern.compile("(?i).*(password|passwd|secret|token|credential|jaas|private).*");
  private static final String MASK = "****";

  private final String scheme;
  private final String user;
  private final String password;
  private final List<String> hosts;
  private final String path;
  private final Map<String, String> parameters;
  private final Map<String, String> nativeSettings;

  private PolybusOptions(
      String scheme,
      String user,
      String password,
      List<String> hosts,
      String path,
      Map<String, String> parameters,
      Map<String, String> nativeSettings) {
    this.scheme = scheme;
    this.user = user;
    this.password = password;
    this.hosts = hosts;
    this.path = path;
    this.parameters = parameters;
    this.nativeSettings = nativeSettings;
  }

  /**
   * Parses a URI.
   *
   * @throws ConfigurationException if it does not follow the grammar; the message shows the redacted URI
   */
  public static PolybusOptions parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    String text = uri.strip();
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw new ConfigurationException(
          "malformed Polybus URI '" + maskUserInfo(text) + "': expected '<scheme>:...', for example 'mem:'");
    }
    String scheme = text.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!SCHEME.matcher(scheme).matches()) {
      throw new ConfigurationException(
          "malformed Polybus URI '" + maskUserInfo(text) + "': invalid scheme '" + scheme + "'");
    }
    String rest = text.substring(colon + 1);
    String query = null;
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    if (rest.indexOf('#') >= 0 || (query != null && query.indexOf('#') >= 0)) {
      throw new ConfigurationException(
          "malformed Polybus URI '" + maskUserInfo(text) + "': fragments ('#') are not allowed");
    }
    String user = null;
    String password = null;
    List<String> hosts = List.of();
    if (rest.startsWith("//")) {
      rest = rest.substring(2);
      int slash = rest.indexOf('/');
      String authority = slash >= 0 ? rest.substring(0, slash) : rest;
      rest = slash >= 0 ? rest.substring(slash) : "";
      int at = authority.lastIndexOf('@');
      if (at >= 0) {
        String userInfo = authority.substring(0, at);
        authority = authority.substring(at + 1);
        int c = userInfo.indexOf(':');
        user = decode(c >= 0 ? userInfo.substring(0, c) : userInfo, text);
        password = c >= 0 ? decode(userInfo.substring(c + 1), text) : null;
      }
      if (!authority.isEmpty()) {
        List<String> hs = new ArrayList<>();
        for (String h : authority.split(",", -1)) {
          if (h.isEmpty()) {
            throw new ConfigurationException(
                "malformed Polybus URI '" + maskUserInfo(text) + "': empty host in '" + authority + "'");
          }
          checkHost(h, text);
          hs.add(h);
        }
        hosts = List.copyOf(hs);
      }
    }
    String path = decode(rest, text);
    Map<String, String> params = new LinkedHashMap<>();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&", -1)) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = decode(eq >= 0 ? pair.substring(0, eq) : pair, text);
        String value = eq >= 0 ? decode(pair.substring(eq + 1), text) : "";
        if (name.isEmpty()) {
          throw new ConfigurationException(
              "malformed Polybus URI '" + maskUserInfo(text) + "': parameter without a name");
        }
        if (params.putIfAbsent(name, value) != null) {
          throw new ConfigurationException(
              "malformed Polybus URI '" + maskUserInfo(text) + "': parameter '" + name + "' given twice");
        }
      }
    }
    return new PolybusOptions(
        scheme, user, password, hosts, path, Collections.unmodifiableMap(params), Map.of());
  }

  /**
   * Reads options from a map such as a Spring or MicroProfile configuration subtree; see the class doc.
   *
   * @throws ConfigurationException if {@code polybus.uri} is missing or another {@code polybus.} key is unknown
   */
  public static PolybusOptions fromMap(Map<String, ?> config) {
    Objects.requireNonNull(config, "config");
    Object uri = config.get("polybus.uri");
    if (uri == null) {
      throw new ConfigurationException("missing 'polybus.uri' in the configuration (keys given: "
          + config.keySet().stream().filter(k -> k.startsWith("polybus.")).sorted().toList() + ")");
    }
    PolybusOptions base = parse(uri.toString());
    String prefix = "polybus." + base.scheme + ".";
    Map<String, String> natives = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    config.keySet().stream().sorted().forEach(k -> {
      if (k.equals("polybus.uri") || !k.startsWith("polybus.")) {
        return;
      }
      if (k.startsWith(prefix) && k.length() > prefix.length()) {
        Object v = config.get(k);
        natives.put(k.substring(prefix.length()), v == null ? "" : v.toString());
      } else if (!isOtherBackendSetting(k)) {
        unknown.add(k);
      }
    });
    if (!unknown.isEmpty()) {
      throw new ConfigurationException("unknown Polybus configuration keys " + unknown
          + ": expected 'polybus.uri' and 'polybus.<scheme>.<native setting>'");
    }
    return base.withNativeSettings(natives);
  }

  /** Like {@link #fromMap(Map)}, for {@link Properties}. */
  public static PolybusOptions fromProperties(Properties properties) {
    Objects.requireNonNull(properties, "properties");
    Map<String, Object> m = new LinkedHashMap<>();
    for (String name : properties.stringPropertyNames()) {
      m.put(name, properties.getProperty(name));
    }
    return fromMap(m);
  }

  private static boolean isOtherBackendSetting(String key) {
    // polybus.<scheme>.<something>: a setting for a backend other than the one chosen.
    String[] parts = key.split("\\.", 3);
    return parts.length == 3 && SCHEME.matcher(parts[1]).matches() && !parts[2].isEmpty();
  }

  /** A copy with these native settings added (replacing settings of the same name). */
  public PolybusOptions withNativeSettings(Map<String, String> settings) {
    Objects.requireNonNull(settings, "settings");
    if (settings.isEmpty()) {
      return this;
    }
    Map<String, String> m = new LinkedHashMap<>(nativeSettings);
    settings.forEach((k, v) -> m.put(Objects.requireNonNull(k, "setting name"), Objects.requireNonNull(v, k)));
    return new PolybusOptions(scheme, user, password, hosts, path, parameters, Collections.unmodifiableMap(m));
  }

  /** A copy with one native setting added. */
  public PolybusOptions withNativeSetting(String name, String value) {
    return withNativeSettings(Map.of(name, value));
  }

  /** The scheme, lower-case, for example {@code kafka}. */
  public String scheme() {
    return scheme;
  }

  /** The user of the authority's user info, or {@code null}. */
  public String user() {
    return user;
  }

  /** The password of the authority's user info, or {@code null}. Never logged by Polybus. */
  public String password() {
    return password;
  }

  /** The hosts of the authority as given ({@code host} or {@code host:port}), in order; empty when none. */
  public List<String> hosts() {
    return hosts;
  }

  /** The path, percent-decoded, possibly empty; for {@code log:./data} it is {@code ./data}. */
  public String path() {
    return path;
  }

  /** The query parameters, percent-decoded, in order. */
  public Map<String, String> parameters() {
    return parameters;
  }

  /** Settings passed through to the native client, from {@code polybus.<scheme>.<setting>} keys. */
  public Map<String, String> nativeSettings() {
    return nativeSettings;
  }

  /** True when a parameter or native setting of this name holds a secret and must not be shown. */
  public static boolean isSecretName(String name) {
    return SECRET_NAME.matcher(name).matches();
  }

  /** The URI with secrets replaced by {@code ****}, safe for logs and error messages. */
  public String redacted() {
    StringBuilder sb = new StringBuilder(scheme).append(':');
    if (user != null || !hosts.isEmpty()) {
      sb.append("//");
      if (user != null) {
        sb.append(user);
        if (password != null) {
          sb.append(':').append(MASK);
        }
        sb.append('@');
      }
      sb.append(String.join(",", hosts));
    }
    sb.append(path);
    if (!parameters.isEmpty()) {
      sb.append('?');
      boolean first = true;
      for (Map.Entry<String, String> e : parameters.entrySet()) {
        if (!first) {
          sb.append('&');
        }
        first = false;
        sb.append(e.getKey()).append('=').append(isSecretName(e.getKey()) ? MASK : e.getValue());
      }
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("PolybusOptions{").append(redacted());
    if (!nativeSettings.isEmpty()) {
      sb.append(", native={");
      boolean first = true;
      for (Map.Entry<String, String> e : nativeSettings.entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        sb.append(e.getKey()).append('=').append(isSecretName(e.getKey()) ? MASK : e.getValue());
      }
      sb.append('}');
    }
    return sb.append('}').toString();
  }

  private static void checkHost(String h, String uri) {
    String host = h;
    int c = h.lastIndexOf(':');
    if (c >= 0 && !h.endsWith("]")) {
      String port = h.substring(c + 1);
      host = h.substring(0, c);
      boolean ok = !port.isEmpty() && port.length() <= 5 && port.chars().allMatch(Character::isDigit)
          && Integer.parseInt(port) <= 65535;
      if (!ok) {
        throw new ConfigurationException(
            "malformed Polybus URI '" + maskUserInfo(uri) + "': invalid port '" + port + "' in '" + h + "'");
      }
    }
    if (host.isEmpty() || host.chars().anyMatch(ch -> ch <= ' ' || ch == '/' || ch == '?' || ch == '#')) {
      throw new ConfigurationException(
          "malformed Polybus URI '" + maskUserInfo(uri) + "': invalid host '" + h + "'");
    }
  }

  private static String decode(String s, String uri) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    // '%' and hex digits are ASCII, so decoding on the UTF-8 bytes keeps every other character intact.
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      byte b = in[i];
      if (b == '%') {
        int hi = i + 1 < in.length ? Character.digit(in[i + 1], 16) : -1;
        int lo = i + 2 < in.length ? Character.digit(in[i + 2], 16) : -1;
        if (hi < 0 || lo < 0) {
          throw new ConfigurationException(
              "malformed Polybus URI '" + maskUserInfo(uri) + "': bad percent escape in '" + s + "'");
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        out.write(b);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Masks the password of a URI that may not parse, for error messages. */
  static String maskUserInfo(String uri) {
    int start = uri.indexOf("//");
    if (start < 0) {
      return uri;
    }
    int end = uri.length();
    for (int i = start + 2; i < uri.length(); i++) {
      char ch = uri.charAt(i);
      if (ch == '/' || ch == '?' || ch == '#') {
        end = i;
        break;
      }
    }
    int at = uri.lastIndexOf('@', end - 1);
    if (at < start) {
      return uri;
    }
    int colon = uri.indexOf(':', start + 2);
    if (colon < 0 || colon > at) {
      return uri;
    }
    return uri.substring(0, colon + 1) + MASK + uri.substring(at);
  }
}
