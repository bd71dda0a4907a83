package io.polybus.spool;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A RabbitMQ node of the test's own: a second {@code rabbitmq-server} with its own node name, AMQP
 * and distribution ports, configuration, plugins file, Mnesia and log directories and Erlang
 * cookie, all in a temporary directory, so that the test can stop and start it. The shared node
 * (5672, {@code /etc/rabbitmq}) is never touched; the new node registers its name with the
 * machine's epmd like any Erlang node. Not thread-safe.
 */
final class PrivateRabbit implements PrivateBroker {
  private static final Path SERVER = Path.of("/usr/lib/rabbitmq/bin/rabbitmq-server");

  private final Path dir;
  private final int port;
  private final int distPort;
  private Process server;

  private PrivateRabbit(Path dir, int port, int distPort) {
    this.dir = dir;
    this.port = port;
    this.distPort = distPort;
  }

  static boolean available() {
    return Files.isExecutable(SERVER);
  }

  static PrivateRabbit start(Path parent) throws Exception {
    Path dir = Files.createTempDirectory(parent, "rabbit");
    int port = freePort();
    int dist = freePort();
    while (dist == port) {
      dist = freePort();
    }
    Files.writeString(dir.resolve("rabbitmq.conf"), "listeners.tcp.1 = 127.0.0.1:" + port + "\n");
    Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
    Files.writeString(dir.resolve("rabbitmq-env.conf"), ""); // instead of /etc/rabbitmq's
    PrivateRabbit r = new PrivateRabbit(dir, port, dist);
    r.start();
    return r;
  }

  @Override
  public String uri() {
    return "rabbitmq://guest:guest@127.0.0.1:" + port;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void start() throws Exception {
    ProcessBuilder pb = new ProcessBuilder(SERVER.toString()).directory(dir.toFile());
    Map<String, String> env = pb.environment();
    env.put("HOME", dir.toString()); // its own Erlang cookie
    env.put("RABBITMQ_NODENAME", "polybus-spool-" + port + "@localhost");
    env.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
    env.put("RABBITMQ_NODE_PORT", Integer.toString(port));
    env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
    env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
    env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
    env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
    env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
    env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
    env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
    env.put("RABBITMQ_PID_FILE", dir.resolve("rabbit.pid").toString());
    env.put("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}");
    server =
        pb.redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!answers()) {
      assertThat(server.isAlive())
          .as("the test node is running, see %s", dir.resolve("server.log"))
          .isTrue();
      assertThat(System.nanoTime()).as("the test node answers within 90 s").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /**
   * Stops the node: SIGTERM to the start script, which stops the Erlang VM gracefully, then waits
   * for the VM and its helpers (SIGKILL after 30 s). Only processes this object started.
   */
  @Override
  public void stop() throws InterruptedException {
    if (server == null || !server.isAlive()) {
      return;
    }
    List<ProcessHandle> tree = server.descendants().toList();
    server.destroy();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        p.destroyForcibly();
      }
    }
    if (!server.waitFor(10, TimeUnit.SECONDS)) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** An AMQP protocol header answered: the node takes connections. */
  private boolean answers() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write("HELLO-01".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = s.getInputStream();
      byte[] b = in.readNBytes(4);
      return new String(b, StandardCharsets.US_ASCII).equals("AMQP");
    } catch (IOException e) {
      return false;
    }
  }

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
