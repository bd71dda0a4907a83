package io.polybus.nativelog;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.BrokerUnavailableException;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A disk that fills up: a real, small file system (a 4 MiB tmpfs, mounted for the test; needs root,
 * as CI has). Publishing fails with a clear transient error naming the cause, the JVM does not
 * crash (segments are preallocated: no SIGBUS), and every publish confirmed before is still there.
 */
@Timeout(120)
class DiskFullTest {
  @TempDir Path tmp;

  @Test
  void aFullDiskFailsPublishesClearlyAndKeepsEveryConfirmedMessage() throws Exception {
    Path disk = tmp.resolve("disk");
    Files.createDirectories(disk);
    boolean root = "root".equals(System.getProperty("user.name"));
    Assumptions.assumeTrue(root, "mounting a small tmpfs needs root (CI runs as root)");
    run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", disk.toString());
    try {
      String uri = "log:" + disk.resolve("log") + "?partitions=1&segmentSize=1m&maxPayload=64k";
      Set<String> confirmed = ConcurrentHashMap.newKeySet();
      Throwable failure = null;
      try (Polybus bus = Polybus.connect(uri)) {
        // The group exists before the disk fills (its state file needs room too).
        bus.subscribe(
                "t", "g", d -> {}, SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build())
            .close();
        byte[] payload = new byte[1000];
        for (int round = 0;
            round < 100 && failure == null;
            round++) { // 10 MB: more than the disk holds
          List<Message> batch = new ArrayList<>();
          for (int i = 0; i < 100; i++) {
            batch.add(Message.builder().payload(payload).build());
          }
          try {
            bus.publishAll("t", batch).join();
            batch.forEach(m -> confirmed.add(m.id()));
          } catch (CompletionException e) {
            failure = e.getCause();
          }
        }
        assertThat(failure).as("a publish failed once the disk was full").isNotNull();
        assertThat(failure)
            .isInstanceOf(BrokerUnavailableException.class)
            .hasMessageContaining(disk.resolve("log").toString())
            .hasMessageContaining("No space left on device");
        assertThat(confirmed).hasSizeGreaterThan(1000);
        // The health check tells the truth: no room for another segment.
        assertThat(bus.health().up()).isFalse();
        assertThat(bus.health().detail()).contains("less than one segment");

        Set<String> read = ConcurrentHashMap.newKeySet();
        bus.subscribe("t", "g", d -> read.add(d.message().id()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!read.containsAll(confirmed) && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertThat(read).containsAll(confirmed);
      }
    } finally {
      run("umount", "-l", disk.toString());
    }
  }

  private static void run(String... command) throws Exception {
    Process p =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command)).isZero();
  }
}
