package io.polybus.redis;

import io.polybus.AuthenticationException;
import io.polybus.BrokerUnavailableException;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import java.net.SocketTimeoutException;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Maps Jedis failures to Polybus exceptions: transient when trying again later can help. Stateless.
 */
final class RedisErrors {
  private RedisErrors() {}

  static PolybusException map(Throwable t, String what, RedisSettings settings) {
    if (t instanceof PolybusException p) {
      return p;
    }
    String where = " (" + settings.where() + ")";
    String detail = what + where + ": " + t.getMessage();
    if (t instanceof JedisAccessControlException) {
      return new AuthenticationException(detail, t);
    }
    if (t instanceof JedisConnectionException) {
      return hasCause(t, SocketTimeoutException.class)
          ? new PolybusTimeoutException(detail, t)
          : new BrokerUnavailableException(detail, t);
    }
    if (t instanceof JedisDataException) {
      String m = String.valueOf(t.getMessage());
      // A server that is loading, busy with a script, read-only after a failover or out of memory
      // recovers alone.
      if (m.startsWith("LOADING")
          || m.startsWith("BUSY")
          || m.startsWith("READONLY")
          || m.startsWith("OOM")
          || m.startsWith("MASTERDOWN")
          || m.startsWith("TRYAGAIN")) {
        return new BrokerUnavailableException(detail, t);
      }
      if (m.startsWith("NOAUTH") || m.startsWith("WRONGPASS") || m.startsWith("NOPERM")) {
        return new AuthenticationException(detail, t);
      }
      return new NonTransientPolybusException(detail, t);
    }
    // Pool exhaustion and other client-side failures: the broker is not reachable right now.
    return new BrokerUnavailableException(detail, t);
  }

  static boolean isNoGroup(Throwable t) {
    return t instanceof JedisDataException && String.valueOf(t.getMessage()).contains("NOGROUP");
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
