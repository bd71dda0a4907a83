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
 * <p>Immutable and thread-safe. Secrets (the password of the URI's user info, and any parameter or
 * native setting whose name mentions a password, secret, token, credential or JAAS config) are kept
 * but never shown: {@link #toString()} and {@link #redacted()} print {@code ****} in their place,
 * and Polybus's own error messages use the redacted form.
 *
 * <h2>URI grammar</h2>
 *
 * <pre>
 * uri       = scheme ":" [ "//" authority ] [ path ] [ "?" query ]
 * scheme    = letter *( letter / digit / "+" / "-" / "." )      ; case-insensitive, kept lower-case
 * authority = [ user [ ":" password ] "@" ] host [ ":" port ] *( "," host [ ":" port ] )
 * query     = name "=" value *( "&amp;" name "=" value )          ; percent-decoded, names unique
 * </pre>
 *
 * Examples: {@code mem:}, {@code log:./data?partitions=8}, {@code
 * kafka://h1:9092,h2:9092?acks=all}, {@code rabbitmq://user:secret@host:5672/vhost}. Each backend
 * documents the parameters it accepts and rejects any other one with a {@link
 * ConfigurationException}.
 *
 * <h2>Map and Properties form</h2>
 *
 * {@code polybus.uri} holds the URI; {@code polybus.<scheme>.<setting>=<value>} is a native setting
 * handed to that backend's client as-is (for example {@code polybus.kafka.linger.ms=5}); settings
 * for other schemes are ignored so one file can serve several backends; any other key starting with
 * {@code polybus.} is an error; keys outside {@code polybus.} are ignored.
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
   * @throws ConfigurationException if it does not follow the grammar; the message shows the
   *     redacted URI
   */
  public static PolybusOptions parse(String uri) {
    Objects.requireNonNull(uri, "uri");
    String text = uri.strip();
    UriText u = new UriText(text);
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw u.malformed("expected '<scheme>:...', for example 'mem:'");
    }
    String scheme = text.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!SCHEME.matcher(scheme).matches()) {
      throw u.malformed("invalid scheme '" + u.show(0, colon) + "'");
    }
    int restStart = colon + 1;
    if (text.indexOf('#', restStart) >= 0) {
      throw u.malformed("fragments ('#') are not allowed");
    }
    int q = text.indexOf('?', restStart);
    int restEnd = q >= 0 ? q : text.length();
    String user = null;
    String password = null;
    List<String> hosts = List.of();
    int pathStart = restStart;
    if (text.startsWith("//", restStart)) {
      int authorityStart = restStart + 2;
      int slash = text.indexOf('/', authorityStart);
      int authorityEnd = slash >= 0 && slash < restEnd ? slash : restEnd;
      pathStart = authorityEnd;
      int hostsStart = authorityStart;
      int at = text.lastIndexOf('@', authorityEnd - 1);
      if (at >= authorityStart) {
        int c = text.indexOf(':', authorityStart);
        if (c >= 0 && c < at) {
          user = u.decode(authorityStart, c);
          password = u.decode(c + 1, at);
        } else {
          user = u.decode(authorityStart, at);
        }
        hostsStart = at + 1;
      }
      if (hostsStart < authorityEnd) {
        List<String> hs = new ArrayList<>();
        for (int h = hostsStart; ; ) {
          int comma = text.indexOf(',', h);
          int e = comma >= 0 && comma < authorityEnd ? comma : authorityEnd;
          if (e == h) {
            throw u.malformed("empty host in '" + u.show(hostsStart, authorityEnd) + "'");
          }
          checkHost(u, h, e);
          hs.add(text.substring(h, e));
          if (e == authorityEnd) {
            break;
          }
          h = e + 1;
        }
        hosts = List.copyOf(hs);
      }
    }
    String path = u.decode(pathStart, restEnd);
    Map<String, String> params = new LinkedHashMap<>();
    if (q >= 0) {
      for (int p = q + 1; p <= text.length(); ) {
        int amp = text.indexOf('&', p);
        int e = amp >= 0 ? amp : text.length();
        if (e > p) {
          int eq = text.indexOf('=', p);
          int nameEnd = eq >= 0 && eq < e ? eq : e;
          String name = u.decode(p, nameEnd);
          String value = nameEnd < e ? u.decode(nameEnd + 1, e) : "";
          if (name.isEmpty()) {
            throw u.malformed("parameter without a name");
          }
          if (params.putIfAbsent(name, value) != null) {
            throw u.malformed("parameter '" + u.show(p, nameEnd) + "' given twice");
          }
        }
        if (amp < 0) {
          break;
        }
        p = amp + 1;
      }
    }
    return new PolybusOptions(
        scheme, user, password, hosts, path, Collections.unmodifiableMap(params), Map.of());
  }

  /**
   * Reads options from a map such as a Spring or MicroProfile configuration subtree; see the class
   * doc.
   *
   * @throws ConfigurationException if {@code polybus.uri} is missing or another {@code polybus.}
   *     key is unknown
   */
  public static PolybusOptions fromMap(Map<String, ?> config) {
    Objects.requireNonNull(config, "config");
    // Read as a raw map: a Map<String, ?> built from untyped sources may still hold keys of other
    // types.
    Map<?, ?> raw = config;
    List<String> keys = new ArrayList<>();
    for (Object k : raw.keySet()) {
      if (!(k instanceof String)) {
        throw new ConfigurationException(
            "configuration key "
                + k
                + " is a "
                + (k == null ? "null" : k.getClass().getName())
                + ", not a String: Polybus keys are 'polybus.uri' and"
                + " 'polybus.<scheme>.<native setting>'");
      }
      keys.add((String) k);
    }
    Object uri = raw.get("polybus.uri");
    if (uri == null) {
      throw new ConfigurationException(
          "missing 'polybus.uri' in the configuration (keys given: "
              + keys.stream().filter(k -> k.startsWith("polybus.")).sorted().toList()
              + ")");
    }
    if (!(uri instanceof CharSequence)) {
      throw new ConfigurationException(
          "'polybus.uri' must be a String, was a " + uri.getClass().getName());
    }
    PolybusOptions base = parse(uri.toString());
    String prefix = "polybus." + base.scheme + ".";
    Map<String, String> natives = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    keys.stream()
        .sorted()
        .forEach(
            k -> {
              if (k.equals("polybus.uri") || !k.startsWith("polybus.")) {
                return;
              }
              if (k.startsWith(prefix) && k.length() > prefix.length()) {
                Object v = raw.get(k);
                natives.put(k.substring(prefix.length()), v == null ? "" : v.toString());
              } else if (!isOtherBackendSetting(k)) {
                unknown.add(k);
              }
            });
    if (!unknown.isEmpty()) {
      throw new ConfigurationException(
          "unknown Polybus configuration keys "
              + unknown
              + ": expected 'polybus.uri' and 'polybus.<scheme>.<native setting>'");
    }
    return base.withNativeSettings(natives);
  }

  /** Like {@link #fromMap(Map)}, for {@link Properties}; every key and the URI must be strings. */
  public static PolybusOptions fromProperties(Properties properties) {
    Objects.requireNonNull(properties, "properties");
    Map<String, Object> m = new LinkedHashMap<>();
    for (Map.Entry<Object, Object> e : properties.entrySet()) {
      if (!(e.getKey() instanceof String)) {
        throw new ConfigurationException(
            "property key "
                + e.getKey()
                + " is a "
                + e.getKey().getClass().getName()
                + ", not a String");
      }
      m.put((String) e.getKey(), e.getValue());
    }
    // Defaults of the Properties object count as given, as getProperty reads them.
    for (String name : properties.stringPropertyNames()) {
      m.putIfAbsent(name, properties.getProperty(name));
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
    settings.forEach(
        (k, v) -> m.put(Objects.requireNonNull(k, "setting name"), Objects.requireNonNull(v, k)));
    return new PolybusOptions(
        scheme, user, password, hosts, path, parameters, Collections.unmodifiableMap(m));
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

  /**
   * The hosts of the authority as given ({@code host} or {@code host:port}), in order; empty when
   * none.
   */
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

  private static void checkHost(UriText u, int start, int end) {
    String h = u.text.substring(start, end);
    int hostEnd = end;
    int c = h.lastIndexOf(':');
    if (c >= 0 && !h.endsWith("]")) {
      String port = h.substring(c + 1);
      hostEnd = start + c;
      boolean digits =
          !port.isEmpty()
              && port.length() <= 5
              && port.chars().allMatch(ch -> ch >= '0' && ch <= '9');
      if (!digits || Integer.parseInt(port) > 65535) {
        // A port that is not a number may be a password whose '@' went missing: shown only when it
        // is digits.
        if (!digits) {
          u.secret(start + c + 1, end);
        }
        throw u.malformed(
            "invalid port "
                + (digits ? "'" + port + "'" : "(not a number from 0 to 65535)")
                + " in host '"
                + u.show(start, hostEnd)
                + "'");
      }
    }
    if (hostEnd == start
        || u.text.substring(start, hostEnd).chars().anyMatch(ch -> ch <= ' ' || ch == '/')) {
      throw u.malformed("invalid host '" + u.show(start, end) + "'");
    }
  }

  /**
   * A URI's text while it is parsed, with the ranges that may hold a secret: from the first {@code
   * :} after {@code //} to the last {@code @} (the user info's password, found even when it holds
   * an unescaped {@code /}, {@code ?} or {@code #}), and the value of each query parameter with a
   * {@linkplain #isSecretName secret name}. Every error message shows the text through {@link
   * #masked()} and {@link #show}, so no secret reaches one, however malformed the rest is; masking
   * too much in an error is the price.
   */
  private static final class UriText {
    final String text;
    private final List<int[]> secrets = new ArrayList<>();

    UriText(String text) {
      this.text = text;
      int colon = text.indexOf(':');
      if (colon >= 0 && text.startsWith("//", colon + 1)) {
        int authorityStart = colon + 3;
        int lastAt = text.lastIndexOf('@');
        int c = text.indexOf(':', authorityStart);
        if (lastAt > authorityStart && c >= 0 && c < lastAt) {
          secrets.add(new int[] {c + 1, lastAt});
        }
      }
      int q = colon >= 0 ? text.indexOf('?', colon) : -1;
      for (int p = q + 1; q >= 0 && p <= text.length(); ) {
        int amp = text.indexOf('&', p);
        int e = amp >= 0 ? amp : text.length();
        int eq = text.indexOf('=', p);
        if (eq >= 0 && eq < e && isSecretName(lenientDecode(text.substring(p, eq)))) {
          secrets.add(new int[] {eq + 1, e});
        }
        if (amp < 0) {
          break;
        }
        p = amp + 1;
      }
    }

    /** Treats {@code text[start, end)} as a secret from now on. */
    void secret(int start, int end) {
      secrets.add(new int[] {start, end});
    }

    /** The whole text with every secret range masked. */
    String masked() {
      return show(0, text.length());
    }

    /** {@code text[start, end)} with the parts inside a secret range masked. */
    String show(int start, int end) {
      StringBuilder sb = new StringBuilder(end - start);
      int i = start;
      while (i < end) {
        int[] s = secretAt(i);
        if (s != null) {
          sb.append(MASK);
          i = Math.min(end, s[1]);
        } else {
          sb.append(text.charAt(i));
          i++;
        }
      }
      return sb.toString();
    }

    private int[] secretAt(int i) {
      for (int[] s : secrets) {
        if (i >= s[0] && i < s[1]) {
          return s;
        }
      }
      return null;
    }

    ConfigurationException malformed(String detail) {
      return new ConfigurationException("malformed Polybus URI '" + masked() + "': " + detail);
    }

    /** Percent-decodes {@code text[start, end)}. */
    String decode(int start, int end) {
      String s = text.substring(start, end);
      if (s.indexOf('%') < 0) {
        return s;
      }
      String decoded = percentDecode(s);
      if (decoded == null) {
        throw malformed("bad percent escape in '" + show(start, end) + "'");
      }
      return decoded;
    }

    private static String lenientDecode(String s) {
      String d = s.indexOf('%') < 0 ? s : percentDecode(s);
      return d != null ? d : s;
    }
  }

  /** Percent-decodes {@code s} as UTF-8, or returns null for a bad escape. */
  private static String percentDecode(String s) {
    // '%' and hex digits are ASCII, so decoding on the UTF-8 bytes keeps every other character
    // intact.
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    for (int i = 0; i < in.length; i++) {
      byte b = in[i];
      if (b == '%') {
        int hi = i + 1 < in.length ? Character.digit(in[i + 1], 16) : -1;
        int lo = i + 2 < in.length ? Character.digit(in[i + 2], 16) : -1;
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        out.write(b);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
