package io.polybus.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What one bench run measured. Latencies in microseconds.
 *
 * <p>Immutable once built, but holds the run's histogram: do not record into it afterwards.
 */
record BenchResult(
    String uri,
    int messages,
    int size,
    int keys,
    long publishNanos,
    long consumed,
    long consumeNanos,
    Histogram latencyMicros) {

  double publishRate() {
    return messages / (publishNanos / 1e9);
  }

  double consumeRate() {
    return consumed / (consumeNanos / 1e9);
  }

  double percentileMillis(double p) {
    return latencyMicros.getValueAtPercentile(p) / 1000.0;
  }

  void print(PrintStream out) {
    out.printf(
        Locale.ROOT, "bench %s: %d messages of %d bytes, %d keys%n", uri, messages, size, keys);
    out.printf(
        Locale.ROOT,
        "publish  %d msgs in %.2f s: %.0f msg/s%n",
        messages,
        publishNanos / 1e9,
        publishRate());
    out.printf(
        Locale.ROOT,
        "consume  %d msgs in %.2f s: %.0f msg/s (from the first publish to the last handler)%n",
        consumed,
        consumeNanos / 1e9,
        consumeRate());
    out.printf(
        Locale.ROOT,
        "latency  publish->handler p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms%n",
        percentileMillis(50),
        percentileMillis(99),
        percentileMillis(99.9),
        latencyMicros.getMaxValue() / 1000.0);
    out.flush();
  }
}
