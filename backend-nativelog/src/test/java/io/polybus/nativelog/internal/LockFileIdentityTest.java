package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.nativelog.Children;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery runs only when no other process has the log open. Deleting {@code polybus-log.lock}
 * under live processes must not let the next opener believe it is alone, and the processes that
 * hold the log notice and put a lock file back.
 */
@Timeout(120)
class LockFileIdentityTest {
  @TempDir Path dir;

  @Test
  void anOpenerDoesNotRecoverWhileAnotherProcessHoldsALogWhoseLockFileWasDeleted()
      throws Exception {
    Path log = dir.resolve("log");
    try (Polybus bus = Polybus.connect("log:" + log)) {
      bus.publishAndWait("t", Message.of("x")); // a topic for the child to consume
    }
    Path ready = dir.resolve("out.ready");
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                Children.class.getName(),
                "consume",
                "log:" + log,
                "t",
                "g",
                dir.resolve("out").toString())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("child.log").toFile()))
            .start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.exists(ready)) {
        assertThat(child.isAlive()).as("child alive: %s", dir.resolve("child.log")).isTrue();
        assertThat(System.nanoTime() - deadline).isNegative();
        Thread.sleep(50);
      }
      Files.delete(log.resolve(NativeLog.LOCK));

      NativeLog opened = NativeLog.acquire(log, 4, 16 << 20, 2_000_000_000L, LogRetention.FOREVER);
      try {
        assertThat(opened.recovery())
            .as("recovery ran while another process had the log open")
            .isNull();
        assertThat(log.resolve(NativeLog.LOCK))
            .exists(); // put back, and held by this process from now on
      } finally {
        opened.release();
      }
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  @Test
  void aHolderNoticesItsLockFileWasDeletedOrReplacedAndPutsOneBackThatItHolds() throws Exception {
    Path log = dir.resolve("log");
    NativeLog opened = NativeLog.acquire(log, 4, 16 << 20, 2_000_000_000L, LogRetention.FOREVER);
    try {
      assertThat(opened.health().up()).isTrue();
      Files.delete(log.resolve(NativeLog.LOCK));
      assertThat(opened.health().detail()).contains(NativeLog.LOCK).contains("re-created");
      assertThat(log.resolve(NativeLog.LOCK)).exists();
      Object identity =
          Files.readAttributes(
                  log.resolve(NativeLog.LOCK), java.nio.file.attribute.BasicFileAttributes.class)
              .fileKey();

      Files.delete(log.resolve(NativeLog.LOCK));
      Files.writeString(log.resolve(NativeLog.LOCK), "someone else's"); // replaced by another file
      assertThat(opened.health().detail()).contains("re-created");
      assertThat(
              Files.readAttributes(
                      log.resolve(NativeLog.LOCK),
                      java.nio.file.attribute.BasicFileAttributes.class)
                  .fileKey())
          .isNotEqualTo(identity);
      assertThat(opened.health().detail()).doesNotContain("re-created"); // settled
    } finally {
      opened.release();
    }
  }
}
