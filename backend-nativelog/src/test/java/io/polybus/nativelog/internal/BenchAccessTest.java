package io.polybus.nativelog.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The accessors the benchmarks use still do what the benchmarks measure: they live here so they
 * compile with us.
 */
@Timeout(60)
class BenchAccessTest {
  @TempDir Path log;

  @Test
  void appendedBodiesReadBackInOrderAndARecoveryWithoutCheckpointsScansEveryFrame()
      throws Exception {
    Path partition = log.resolve("topics").resolve("t").resolve("0");
    try (LogBenchAccess.Appender appender = new LogBenchAccess.Appender(partition, 1 << 20)) {
      for (int i = 0; i < 3; i++) {
        assertThat(appender.append(("body" + i).getBytes(StandardCharsets.UTF_8), 1_000L + i))
            .isEqualTo(i);
      }
      LogBenchAccess.Reader reader = appender.reader();
      for (int i = 0; i < 3; i++) {
        int length = reader.next();
        int start = LogBenchAccess.Reader.bodyStart();
        assertThat(
                new String(
                    Arrays.copyOfRange(reader.bytes(), start, start + length),
                    StandardCharsets.UTF_8))
            .isEqualTo("body" + i);
      }
      assertThat(reader.next()).isEqualTo(-1);
    }

    RecoveryBenchAccess.recover(log); // leaves checkpoints at the end, as a normal open does
    assertThat(RecoveryBenchAccess.recover(log)[1]).isZero();
    RecoveryBenchAccess.forgetCheckpoints(log);
    long[] report = RecoveryBenchAccess.recover(log);
    assertThat(report[1]).isEqualTo(3);
    assertThat(report[0]).isPositive();
  }
}
