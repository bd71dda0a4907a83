package io.polybus.internal;

import java.util.Objects;

/**
 * Not API. The portable-name rule shared by every backend: 1 to 100 of {@code [A-Za-z0-9._-]}, not
 * starting with {@code .} or {@code -}.
 */
public final class Names {
  public static final int MAX_LENGTH = 100;

  private Names() {}

  public static String checkTopic(String topic) {
    return check(topic, "topic");
  }

  public static String checkGroup(String group) {
    return check(group, "group");
  }

  public static boolean isPortable(String name) {
    if (name == null || name.isEmpty() || name.length() > MAX_LENGTH) {
      return false;
    }
    char first = name.charAt(0);
    if (first == '.' || first == '-') {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static String check(String name, String what) {
    Objects.requireNonNull(name, what);
    if (!isPortable(name)) {
      throw new IllegalArgumentException(
          "invalid "
              + what
              + " name '"
              + printable(name)
              + "': a portable name is 1 to "
              + MAX_LENGTH
              + " characters of [A-Za-z0-9._-] and does not start with '.' or '-'");
    }
    return name;
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length() && i < 120; i++) {
      char c = s.charAt(i);
      sb.append(c < ' ' || c == 127 ? '?' : c);
    }
    if (s.length() > 120) {
      sb.append("...(").append(s.length()).append(" chars)");
    }
    return sb.toString();
  }
}
