package io.polybus.postgres;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL cluster of a test's own, in a temporary directory on a free port, so a test can stop
 * and start it without touching the shared server. As root (this machine), initdb and pg_ctl run as
 * the user postgres through runuser. Missing binaries fail the test with a message saying what to
 * install; nothing is skipped.
 */
final class OwnCluster implements AutoCloseable {
  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");

  final Path dir;
  final int port;

  OwnCluster() throws Exception {
    if (!Files.isExecutable(BIN.resolve("initdb")) || !Files.isExecutable(BIN.resolve("pg_ctl"))) {
      throw new AssertionError(
          "PostgreSQL 15 server binaries are missing at "
              + BIN
              + ": install Debian's postgresql-15 (scripts/services/postgres.sh start does)");
    }
    dir = Files.createTempDirectory("polybus-pg-cluster");
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    run("chown", "-R", "postgres:postgres", dir.toString());
    runAsPostgres(BIN.resolve("initdb").toString(), "-D", data(), "-A", "trust", "-U", "postgres");
  }

  private String data() {
    return dir.resolve("data").toString();
  }

  String uri(String params) {
    return "postgres://postgres@127.0.0.1:" + port + "/postgres?" + params;
  }

  void start() throws Exception {
    runAsPostgres(
        BIN.resolve("pg_ctl").toString(),
        "-D",
        data(),
        "-o",
        "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off",
        "-l",
        dir.resolve("server.log").toString(),
        "-w",
        "start");
  }

  void stop() throws Exception {
    runAsPostgres(BIN.resolve("pg_ctl").toString(), "-D", data(), "-m", "fast", "-w", "stop");
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private void runAsPostgres(String... cmd) throws Exception {
    List<String> full = new ArrayList<>();
    if (isRoot()) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(List.of(cmd));
    run(full.toArray(new String[0]));
  }

  private void run(String... cmd) throws Exception {
    Path out = dir.resolve("cmd.log");
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(
          String.join(" ", cmd) + " failed; its output:\n" + Files.readString(out));
    }
  }

  @Override
  public void close() throws IOException {
    try {
      stop();
    } catch (Exception | AssertionError e) {
      // already stopped
    }
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    }
  }
}
