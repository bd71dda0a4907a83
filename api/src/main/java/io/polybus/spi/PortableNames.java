package io.polybus.spi;

import io.polybus.internal.Names;

/**
 * The portable-name rule, for backends that name their own things (brokers, queues, files) the way Polybus names
 * topics and groups: 1 to 100 characters of {@code [A-Za-z0-9._-]}, not starting with {@code .} or {@code -}.
 */
public final class PortableNames {
  public static final int MAX_LENGTH = Names.MAX_LENGTH;

  private PortableNames() {}

  public static boolean isPortable(String name) {
    return Names.isPortable(name);
  }
}
