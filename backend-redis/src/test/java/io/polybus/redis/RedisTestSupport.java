package io.polybus.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** The test server and unique key prefixes; every test class deletes the keys under its prefix. */
final class RedisTestSupport {
  static final String HOST = System.getProperty("polybus.redis.host", "127.0.0.1");
  static final int PORT = Integer.getInteger("polybus.redis.port", 6379);

  private RedisTestSupport() {}

  static String uniquePrefix(String what) {
    return "polybus-test-" + what + "-" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  static String uri(String prefix, String extra) {
    return "redis://"
        + HOST
        + ":"
        + PORT
        + "?prefix="
        + prefix
        + (extra.isEmpty() ? "" : "&" + extra);
  }

  static RedisClient client() {
    return RedisClient.create(HOST, PORT);
  }

  /** Deletes every key under {@code prefix}. */
  static void deleteKeys(String prefix) {
    try (RedisClient r = client()) {
      String cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> page = r.scan(cursor, new ScanParams().match(prefix + "*").count(1000));
        List<String> keys = new ArrayList<>(page.getResult());
        if (!keys.isEmpty()) {
          r.del(keys.toArray(new String[0]));
        }
        cursor = page.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    }
  }
}
