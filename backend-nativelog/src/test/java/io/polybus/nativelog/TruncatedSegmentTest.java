package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A segment that another process truncates while a JVM has it mapped. The JVM under test is a
 * child, so that a SIGBUS kills it and not the test: it must live, fail what touched the lost part
 * with a non-transient error naming the file, and report health down naming it. Cases run
 * interpreted ({@code -Xint}: where a compare-and-set of a lost page killed the JVM) or compiled
 * after a warm-up (where the JVM turns every fault into an InternalError, thrown asynchronously: it
 * may surface after the publish returned, in the caller; the health check then finds the file by
 * its size, and the next publish is refused without touching the mapping).
 */
@Timeout(300)
class TruncatedSegmentTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0}, truncated to {1} bytes, {2}")
  @CsvSource({
    "publish, 0, interpreted",
    "publish, 8192, interpreted",
    "publish, 8192, compiled",
    "health, 8192, interpreted",
    "health, 0, compiled",
    "poll, 8192, interpreted",
    "poll, 8192, compiled",
  })
  void
      aSegmentCutShortUnderTheJvmFailsWhatTouchesItNamingTheFileAndTakesHealthDownWithoutKillingTheJvm(
          String mode, long truncateTo, String execution) throws Exception {
    Path dir = tmp.resolve("log");
    Path segment = dir.resolve("topics/t/0/00000000000000000000.log");
    boolean interpreted = execution.equals("interpreted");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx128m",
                "-XX:ErrorFile=" + tmp.resolve("hs_err.log")));
    if (interpreted) {
      cmd.add("-Xint");
    }
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            TruncationChild.class.getName(),
            "log:" + dir + "?partitions=1&segmentSize=16m",
            mode,
            interpreted ? "500" : "30000"));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> out = new ArrayList<>();
    try (BufferedReader r =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Writer in = child.outputWriter(StandardCharsets.UTF_8)) {
      for (String line; (line = r.readLine()) != null && !line.equals("ready"); ) {
        out.add(line);
      }
      try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
        f.setLength(truncateTo); // ftruncate(2), as `truncate` or `> file` in a shell would
      }
      in.write("go\n");
      in.flush();
      for (String line; (line = r.readLine()) != null; ) {
        out.add(line);
      }
    } finally {
      if (!child.waitFor(120, TimeUnit.SECONDS)) {
        child.destroyForcibly();
      }
    }
    String output = String.join("\n", out);
    assertThat(child.exitValue()).as(output).isZero();
    assertThat(output).contains("done").doesNotContain("SIGBUS");
    String failed =
        (mode.equals("poll") ? "poll" : "publish")
            + " threw io.polybus.NonTransientPolybusException";
    assertThat(out)
        .as(output)
        .anySatisfy(
            l ->
                assertThat(l)
                    .startsWith(failed)
                    .contains(segment.toString())
                    .contains("truncated to " + truncateTo));
    if (interpreted || !mode.equals("publish")) {
      // Thrown where it happened, as the log's own error: never an InternalError out of a publish
      // or poll.
      assertThat(out).as(output).noneMatch(l -> l.matches("(publish|poll) threw java\\.lang\\..*"));
    }
    if (mode.equals("health")) {
      // Found by the health check's fstat: the publish after it is refused without touching the
      // mapping.
      assertThat(out).as(output).noneMatch(l -> l.contains("met as: java.lang.InternalError"));
    }
    assertThat(out)
        .as(output)
        .anySatisfy(l -> assertThat(l).startsWith("health down").contains(segment.toString()));
  }
}
