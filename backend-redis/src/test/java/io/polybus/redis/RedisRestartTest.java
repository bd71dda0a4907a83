package io.polybus.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Redis that keeps nothing on disk, restarted under a bus: publishes fail fast and transiently
 * while it is down, health says so, and afterwards publishing and the existing subscription carry
 * on (the group is recreated). Runs its own {@code redis-server} (Debian's, which {@code
 * scripts/services/redis.sh} installs) on a free port.
 */
@Timeout(90)
class RedisRestartTest {
  private Process server;
  private Path dir;

  @AfterEach
  void stopServer() throws IOException {
    if (server != null) {
      server.destroyForcibly();
    }
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private void startServer(int port) throws Exception {
    server =
        new ProcessBuilder(
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                dir.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    Await.until(
        Duration.ofSeconds(10),
        "redis-server answering on " + port,
        () -> {
          try (var s = new java.net.Socket("127.0.0.1", port)) {
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  @Test
  void shouldResumePublishingAndConsumingAfterARestartOfARedisThatKeepsNothing() throws Exception {
    dir = Files.createTempDirectory("polybus-redis-restart");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    startServer(port);
    try (Polybus bus =
        Polybus.connect("redis://127.0.0.1:" + port + "?timeout=500ms&publishTimeout=2s")) {
      Inbox inbox = new Inbox();
      bus.subscribe(
          "orders",
          "g",
          inbox,
          SubscribeOptions.builder().ackTimeout(Duration.ofSeconds(1)).build());
      Message before = Message.of("before");
      bus.publishAndWait("orders", before);
      inbox.awaitIds(List.of(before.id()), Duration.ofSeconds(10), "a message before the restart");

      server.destroy();
      assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
      long start = System.nanoTime();
      try {
        bus.publish("orders", Message.of("while down")).get(10, TimeUnit.SECONDS);
        throw new AssertionError("a publish to a stopped Redis succeeded");
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(PolybusException.class);
        assertThat(((PolybusException) e.getCause()).isTransient())
            .as("transient: " + e.getCause())
            .isTrue();
      }
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("failed within publishTimeout + timeout")
          .isLessThan(Duration.ofMillis(2500));
      assertThat(bus.health().up()).isFalse();

      startServer(port);
      Message after = Message.of("after");
      Await.until(
          Duration.ofSeconds(20),
          "a publish after the restart",
          () -> {
            try {
              bus.publishAndWait("orders", after);
              return true;
            } catch (PolybusException e) {
              return false;
            }
          });
      inbox.awaitIds(
          List.of(after.id()), Duration.ofSeconds(20), "the message published after the restart");
      assertThat(bus.health().up()).isTrue();
    }
  }
}
