package io.polybus.rabbitmq;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker the tests use ({@code -Dpolybus.rabbitmq.uri}, default guest on 127.0.0.1:5672), raw
 * client access to it, and the cleanup of everything the tests' backends declared: the broker may
 * be long-lived and shared.
 */
final class TestBroker {
  static final String URI =
      System.getProperty("polybus.rabbitmq.uri", "rabbitmq://guest:guest@127.0.0.1:5672");
  private static final Set<String> DECLARED = ConcurrentHashMap.newKeySet();

  static {
    RabbitMqBackend.declared = DECLARED::add;
  }

  private TestBroker() {}

  /** Starts recording declared names (idempotent; recording starts when this class loads). */
  static void record() {}

  static Set<String> declared() {
    return Set.copyOf(DECLARED);
  }

  static Connection rawConnection() throws Exception {
    ConnectionFactory cf = new ConnectionFactory();
    cf.setUri(URI.replaceFirst("^rabbitmq:", "amqp:"));
    cf.setAutomaticRecoveryEnabled(false);
    return cf.newConnection("polybus-test-raw");
  }

  /**
   * Deletes every queue and exchange recorded so far; both deletes are no-ops for names of the
   * other kind.
   */
  static void deleteDeclared() throws Exception {
    try (Connection c = rawConnection();
        Channel ch = c.createChannel()) {
      for (String name : declared()) {
        ch.queueDelete(name);
        ch.exchangeDelete(name);
        DECLARED.remove(name);
      }
    }
  }

  /** Whether a queue exists, without closing the caller's channel on a 404. */
  static boolean queueExists(Connection c, String name) throws Exception {
    Channel ch = c.createChannel();
    try {
      ch.queueDeclarePassive(name);
      return true;
    } catch (java.io.IOException e) {
      return false;
    } finally {
      if (ch.isOpen()) {
        ch.close();
      }
    }
  }

  static boolean exchangeExists(Connection c, String name) throws Exception {
    Channel ch = c.createChannel();
    try {
      ch.exchangeDeclarePassive(name);
      return true;
    } catch (java.io.IOException e) {
      return false;
    } finally {
      if (ch.isOpen()) {
        ch.close();
      }
    }
  }
}
