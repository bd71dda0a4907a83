package io.polybus.spool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A single-node KRaft Kafka broker of the test's own, on free ports, from the jars {@code
 * scripts/services/kafka.sh} resolved into {@code build/kafka/lib} (as {@code
 * KafkaBrokerRestartTest} does), so that a test can stop and start it; the shared broker on 9092 is
 * never touched. Not thread-safe.
 */
final class PrivateKafka implements PrivateBroker {
  private static final Path LIB =
      Path.of(System.getProperty("polybus.kafka.lib", "../build/kafka/lib"));

  private final Path dir;
  private final int port;
  private final int controllerPort;
  private Process broker;

  private PrivateKafka(Path dir, int port, int controllerPort) {
    this.dir = dir;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** Formats a storage directory under {@code parent} and starts the broker. */
  static PrivateKafka start(Path parent) throws Exception {
    assertThat(LIB.resolve(".complete"))
        .as("the Kafka broker jars; run scripts/services/kafka.sh start first")
        .exists();
    Path dir = Files.createTempDirectory(parent, "kafka");
    int port = freePort();
    int controller = freePort();
    while (controller == port) {
      controller = freePort();
    }
    PrivateKafka k = new PrivateKafka(dir, port, controller);
    k.format();
    k.start();
    return k;
  }

  @Override
  public String uri() {
    return "kafka://127.0.0.1:" + port;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void format() throws Exception {
    Files.writeString(
        dir.resolve("server.properties"),
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
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

  /** Starts the broker (again) and waits until it answers. */
  @Override
  public void start() throws Exception {
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

  /** Stops the broker (SIGTERM, then SIGKILL after 30 s); its data stays for the next start. */
  @Override
  public void stop() throws InterruptedException {
    if (broker != null && broker.isAlive()) {
      broker.destroy();
      if (!broker.waitFor(30, TimeUnit.SECONDS)) {
        broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
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

  /** Stops the broker and deletes its files. */
  @Override
  public void close() throws IOException {
    try {
      stop();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
