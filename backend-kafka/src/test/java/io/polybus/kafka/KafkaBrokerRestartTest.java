package io.polybus.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.tck.Await;
import io.polybus.tck.Inbox;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A broker stopped and restarted under publishing load loses no confirmed publish, and publishes
 * made while it is down fail within the configured bound instead of hanging. Runs a broker of its
 * own (ports 19092/19093, from the jars {@code scripts/services/kafka.sh} resolved into {@code
 * build/kafka/lib}), so the shared one is left alone.
 */
class KafkaBrokerRestartTest {
  private static final int PORT = 19092;
  private static final Path LIB =
      Path.of(System.getProperty("polybus.kafka.lib", "../build/kafka/lib"));
  private Path dir;
  private Process broker;

  @Test
  @Timeout(180)
  void shouldKeepEveryConfirmedPublishWhenTheBrokerRestartsUnderLoad() throws Exception {
    assertThat(LIB.resolve(".complete"))
        .as("the Kafka broker jars; run scripts/services/kafka.sh start first")
        .exists();
    dir = Files.createTempDirectory("polybus-kafka-restart");
    format();
    start();
    String topic = KafkaTestSupport.unique("restart");
    Set<String> confirmed = ConcurrentHashMap.newKeySet();
    AtomicInteger failed = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    long[] longestFailure = new long[1];
    try (Polybus bus =
        Polybus.connect("kafka://127.0.0.1:" + PORT + "?publishTimeout=4s&partitions=2")) {
      CompletableFuture<Void> publisher =
          CompletableFuture.runAsync(
              () -> {
                int i = 0;
                while (!stop.get()) {
                  List<Message> batch = new ArrayList<>();
                  for (int j = 0; j < 20; j++) {
                    batch.add(
                        Message.builder().key("k" + (i++ % 7)).payload(new byte[100]).build());
                  }
                  long t0 = System.nanoTime();
                  try {
                    bus.publishAllAndWait(topic, batch);
                    batch.forEach(m -> confirmed.add(m.id()));
                  } catch (PolybusException e) {
                    failed.incrementAndGet();
                    longestFailure[0] = Math.max(longestFailure[0], System.nanoTime() - t0);
                  }
                }
              });
      Thread.sleep(1500);
      int beforeStop = confirmed.size();
      stopBroker();
      Thread.sleep(5000); // publishes in flight and new ones fail within publishTimeout
      int beforeRestart = confirmed.size();
      start();
      Await.until(
          Duration.ofSeconds(60),
          "publishes confirmed again after the restart",
          () -> confirmed.size() >= beforeRestart + 200);
      stop.set(true);
      publisher.get(30, TimeUnit.SECONDS);
      assertThat(beforeStop).as("confirmed before the stop").isPositive();
      assertThat(failed.get()).as("publishes that failed while the broker was down").isPositive();
      // The documented bound is 2 x publishTimeout (8 s); 3 s more for a loaded CI machine.
      assertThat(Duration.ofNanos(longestFailure[0]))
          .as("longest failing publish (bound: 2 x publishTimeout)")
          .isLessThan(Duration.ofSeconds(11));

      Inbox inbox = new Inbox();
      bus.subscribe(
          topic, "check", inbox, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      inbox.awaitIds(
          confirmed, Duration.ofSeconds(60), "every confirmed publish after the restart");
    }
  }

  private void format() throws Exception {
    Files.writeString(
        dir.resolve("server.properties"),
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.bootstrap.servers=127.0.0.1:" + (PORT + 1),
            "listeners=PLAINTEXT://127.0.0.1:" + PORT + ",CONTROLLER://127.0.0.1:" + (PORT + 1),
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + PORT,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs=" + dir.resolve("data"),
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "group.initial.rebalance.delay.ms=0",
            ""));
    Process p =
        java(
                "kafka.tools.StorageTool",
                "format",
                "--standalone",
                "-t",
                org.apache.kafka.common.Uuid.randomUuid().toString(),
                "-c",
                dir.resolve("server.properties").toString())
            .redirectOutput(dir.resolve("format.log").toFile())
            .start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0)
        .as("storage format, see %s", dir.resolve("format.log"))
        .isTrue();
  }

  private void start() throws Exception {
    broker =
        java("kafka.Kafka", dir.resolve("server.properties").toString())
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("kafka.log").toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!answers()) {
      assertThat(broker.isAlive())
          .as("the test broker is running, see %s", dir.resolve("kafka.log"))
          .isTrue();
      assertThat(System.nanoTime()).as("the test broker answers within 60 s").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  private void stopBroker() throws InterruptedException {
    if (broker != null && broker.isAlive()) {
      broker.destroy();
      if (!broker.waitFor(30, TimeUnit.SECONDS)) {
        broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static boolean answers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", PORT), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static ProcessBuilder java(String main, String... args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                LIB.toAbsolutePath() + "/*",
                main));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true);
  }

  @AfterEach
  void cleanUp() throws Exception {
    stopBroker();
    if (dir != null) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
