package io.polybus.sqs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.TransientPolybusException;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The endpoint goes away and comes back. This test runs a private ElasticMQ on a free port (from
 * the jars {@code scripts/services/elasticmq.sh} resolved into {@code build/elasticmq/lib}), so the
 * shared one is left alone. The private server keeps queues in memory: after its restart the
 * group's queue is gone, and the member makes it again.
 */
class SqsEndpointDownTest {
  private static final Path LIB =
      Path.of(System.getProperty("polybus.elasticmq.lib", "../build/elasticmq/lib"));

  private Path dir;
  private Process server;
  private int port;

  @Test
  @Timeout(120)
  void shouldFailPublishesTransientlyWithinTheTimeoutWhileTheEndpointIsDownAndRecoverWhenItReturns()
      throws Exception {
    assertThat(LIB.resolve(".complete"))
        .as("ElasticMQ resolved by scripts/services/elasticmq.sh start")
        .exists();
    dir = Files.createTempDirectory("polybus-elasticmq-");
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Files.writeString(
        dir.resolve("elasticmq.conf"),
        String.join(
            "\n",
            "include classpath(\"application.conf\")",
            "node-address { protocol = http, host = 127.0.0.1, port = "
                + port
                + ", context-path = \"\" }",
            "rest-sqs { enabled = true, bind-port = "
                + port
                + ", bind-hostname = \"127.0.0.1\", sqs-limits = strict }",
            "rest-stats { enabled = false }",
            ""));
    start();
    String uri = "sqs://127.0.0.1:" + port + "?region=us-east-1&timeout=2s";
    try (Polybus bus = Polybus.connect(uri)) {
      Inbox inbox = new Inbox();
      bus.subscribe("down", "g", inbox, SubscribeOptions.builder().ordering(Ordering.NONE).build());
      Message before = Message.of("before");
      bus.publishAndWait("down", before);
      inbox.awaitIds(List.of(before.id()), Duration.ofSeconds(20), "a message before the outage");

      stop();
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> bus.publishAndWait("down", Message.of("during")))
          .isInstanceOf(TransientPolybusException.class)
          .hasMessageContaining("127.0.0.1:" + port);
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      System.out.println("publish to a stopped endpoint failed after " + tookMillis + " ms");
      // timeout=2s bounds each call (its own retries included) plus one long-poll second; slack for
      // a loaded machine.
      assertThat(tookMillis).as("ms until the publish failed").isLessThan(6000);
      assertThat(bus.health().up()).as("health while the endpoint is down").isFalse();

      start();
      assertThat(bus.health().up()).as("health once the endpoint is back").isTrue();
      // The restarted server is empty: the member recreates its queue, then receives what is
      // published after that.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      Message after = null;
      while (System.nanoTime() < deadline) {
        after = Message.of("after");
        bus.publishAndWait("down", after);
        if (inbox.ids().contains(after.id())) {
          break;
        }
        Thread.sleep(1000);
        if (inbox.ids().contains(after.id())) {
          break;
        }
      }
      assertThat(inbox.ids())
          .as("a message published after the endpoint returned")
          .contains(after.id());
    }
  }

  private void start() throws Exception {
    server =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Dconfig.file=" + dir.resolve("elasticmq.conf"),
                "-cp",
                LIB.toAbsolutePath() + "/*",
                "org.elasticmq.server.Main")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("elasticmq.log").toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!answers()) {
      assertThat(server.isAlive())
          .as("the private ElasticMQ is running, see %s", dir.resolve("elasticmq.log"))
          .isTrue();
      assertThat(System.nanoTime())
          .as("the private ElasticMQ answers within 60 s")
          .isLessThan(deadline);
      Thread.sleep(200);
    }
    try (var sqs = SqsTestSupport.client("127.0.0.1:" + port)) {
      // Ready once it answers a call, not only a connect.
      while (true) {
        try {
          sqs.listQueues();
          break;
        } catch (RuntimeException e) {
          assertThat(System.nanoTime())
              .as("the private ElasticMQ answers within 60 s")
              .isLessThan(deadline);
          Thread.sleep(200);
        }
      }
    }
  }

  private void stop() throws InterruptedException {
    if (server != null && server.isAlive()) {
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private boolean answers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    stop();
    if (dir != null) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
