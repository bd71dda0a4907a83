package io.polybus.redis;

import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.commands.ProtocolCommand;

/**
 * Any Redis command with raw arguments and a raw reply (RESP2: byte arrays, longs and lists), for
 * the stream commands whose typed Jedis forms would parse into objects this backend does not need.
 * Stateless.
 */
final class Raw {
  private Raw() {}

  /**
   * Sends {@code cmd} with {@code args} ({@code byte[]} or {@code String}, UTF-8) on a pooled
   * connection.
   */
  static Object call(UnifiedJedis redis, ProtocolCommand cmd, Object... args) {
    return redis.executeCommand(arguments(cmd, args));
  }

  static CommandArguments arguments(ProtocolCommand cmd, Object... args) {
    CommandArguments a = new CommandArguments(cmd);
    for (Object o : args) {
      if (o instanceof byte[] b) {
        a.add(b);
      } else {
        a.add(EntryLayout.bytes(o.toString()));
      }
    }
    return a;
  }
}
