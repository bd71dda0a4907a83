package io.polybus.benchmarks;

import java.util.Arrays;

/**
 * The summaries every benchmark here quotes: medians over rounds, and ratios taken round by round
 * (each round runs the compared systems side by side, so a ratio of the same round cancels most of
 * this noisy machine's drift; the median of those ratios is what the tables quote).
 *
 * <p>Stateless; the arrays passed in are not modified.
 */
final class Stats {
  private Stats() {}

  /** The median of {@code values}: the middle one, or the mean of the two middle ones. */
  static double median(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no values to take the median of");
    }
    double[] s = values.clone();
    Arrays.sort(s);
    int mid = s.length / 2;
    return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  /** {@code a[i] / b[i]} for every round {@code i}. */
  static double[] ratios(double[] a, double[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("rounds differ: " + a.length + " against " + b.length);
    }
    double[] r = new double[a.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = a[i] / b[i];
    }
    return r;
  }

  /** The median of the per-round ratios {@code a[i] / b[i]}. */
  static double medianRatio(double[] a, double[] b) {
    return median(ratios(a, b));
  }
}
