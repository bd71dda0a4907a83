package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Runs the built tool as a user would: {@code java -jar target/polybus-cli.jar ...} in its own
 * process, with a working directory, environment additions and standard input of the test's
 * choosing.
 *
 * <p>Immutable; thread-safe (each {@link #run} is its own process).
 */
final class Cli {
  /** What one run printed and returned. */
  record Result(int exitCode, byte[] stdoutBytes, String stderr) {
    String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    List<String> lines() {
      return stdout().lines().toList();
    }

    String all() {
      return stdout() + stderr;
    }

    Result expectOk() {
      assertThat(exitCode).as("exit code; stderr: %s", stderr).isZero();
      return this;
    }
  }

  private final Path workDir;
  private final Map<String, String> env;

  Cli(Path workDir, Map<String, String> env) {
    this.workDir = workDir;
    this.env = env;
  }

  static Path jar() {
    String jar = System.getProperty("polybus.cli.jar");
    assertThat(jar).as("system property polybus.cli.jar (set by failsafe)").isNotNull();
    return Path.of(jar);
  }

  Result run(String... args) {
    return runWithInput(new byte[0], args);
  }

  Result runWithInput(byte[] stdin, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The tool does not depend on the platform charset: run it under the poorest one.
    command.add("-Dfile.encoding=US-ASCII");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Xshare:auto");
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().remove(UriSource.URI_ENV);
    pb.environment().remove(UriSource.CONFIG_ENV);
    pb.environment().put("HOME", workDir.toString());
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      CompletableFuture<byte[]> out = drain(p.getInputStream());
      CompletableFuture<byte[]> err = drain(p.getErrorStream());
      try (OutputStream in = p.getOutputStream()) {
        in.write(stdin);
      }
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("polybus " + String.join(" ", args) + " did not end in 60 s");
      }
      return new Result(p.exitValue(), out.join(), new String(err.join(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  // Own threads, not the common pool: with 2 cores it has one thread, and a process blocked on a
  // full stderr pipe while stdout's reader waits for its end would never finish.
  private static final ExecutorService DRAINS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "cli-drain");
            t.setDaemon(true);
            return t;
          });

  private static CompletableFuture<byte[]> drain(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toByteArray();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        },
        DRAINS);
  }
}
