package io.polybus.benchmarks;

import java.util.Arrays;

/**
 * How long a waiting message was overtaken: for a message that was ready at {@code r} and started
 * at {@code s}, the handler-thread time spent in {@code [r, s)} on handlings that became ready
 * <em>after</em> {@code r}, divided by the number of handler threads. It is how much later the
 * message started than under "first ready, first served" with the same threads; a dispatcher that
 * gives any free thread the longest-waiting ready message scores 0, one that pins keys to busy
 * threads (or blocks a partition on a retry back-off) does not.
 *
 * <p>Computed for all queries at once in {@code O(n log n)}: queries are answered in decreasing
 * order of ready time while the handlings that became ready later are added to Fenwick trees over
 * their start and end times. With {@code F(x)} the handler time of the added handlings before
 * {@code x}, {@code F(x) = x * (#starts < x - #ends < x) - (sum starts < x - sum ends < x)}, and a
 * query's answer is {@code (F(s) - F(r)) / threads}.
 *
 * <p>Not thread-safe: one instance computes one run's figures. Times are nanoseconds on any common
 * origin, at most 2^40 apart.
 */
final class OvertakenTime {
  private final long[] ready;
  private final long[] start;
  private final long[] end;
  private int size;

  OvertakenTime(int capacity) {
    ready = new long[capacity];
    start = new long[capacity];
    end = new long[capacity];
  }

  /**
   * One handling (an attempt of a message) that was ready at {@code r} and ran in {@code [s, e)}.
   */
  void handling(long r, long s, long e) {
    ready[size] = r;
    start[size] = s;
    end[size] = Math.max(s, e);
    size++;
  }

  /**
   * For each query {@code i} (ready at {@code qReady[i]}, started at {@code qStart[i]}), the
   * overtaken time in nanoseconds, as described above, with {@code threads} handler threads.
   */
  double[] overtaken(long[] qReady, long[] qStart, int threads) {
    int q = qReady.length;
    long[] sVals = sortedCopy(start, size);
    long[] eVals = sortedCopy(end, size);
    Fenwick sCount = new Fenwick(size);
    Fenwick sSum = new Fenwick(size);
    Fenwick eCount = new Fenwick(size);
    Fenwick eSum = new Fenwick(size);
    Integer[] byReady = new Integer[size];
    for (int i = 0; i < size; i++) {
      byReady[i] = i;
    }
    Arrays.sort(byReady, (a, b) -> Long.compare(ready[b], ready[a])); // latest ready first
    Integer[] queries = new Integer[q];
    for (int i = 0; i < q; i++) {
      queries[i] = i;
    }
    Arrays.sort(queries, (a, b) -> Long.compare(qReady[b], qReady[a]));
    double[] out = new double[q];
    int next = 0;
    for (int qi : queries) {
      long r = qReady[qi];
      // Only handlings ready strictly later overtake: the key's own earlier messages and the
      // messages that were ready with it do not.
      while (next < size && ready[byReady[next]] > r) {
        int h = byReady[next++];
        int si = rank(sVals, start[h]);
        sCount.add(si, 1);
        sSum.add(si, start[h]);
        int ei = rank(eVals, end[h]);
        eCount.add(ei, 1);
        eSum.add(ei, end[h]);
      }
      long s = Math.max(r, qStart[qi]);
      long busy =
          before(s, sVals, sCount, sSum, eVals, eCount, eSum)
              - before(r, sVals, sCount, sSum, eVals, eCount, eSum);
      out[qi] = (double) busy / threads;
    }
    return out;
  }

  /** F(x): the handler time of the added handlings that lies before {@code x}. */
  private static long before(
      long x,
      long[] sVals,
      Fenwick sCount,
      Fenwick sSum,
      long[] eVals,
      Fenwick eCount,
      Fenwick eSum) {
    int sn = lowerBound(sVals, x); // how many start values are < x
    int en = lowerBound(eVals, x);
    long starts = sCount.prefix(sn);
    long ends = eCount.prefix(en);
    return x * (starts - ends) - (sSum.prefix(sn) - eSum.prefix(en));
  }

  private static long[] sortedCopy(long[] a, int n) {
    long[] c = Arrays.copyOf(a, n);
    Arrays.sort(c);
    return c;
  }

  /** The position of {@code v} in the sorted {@code vals} (any position of an equal value). */
  private static int rank(long[] vals, long v) {
    int i = Arrays.binarySearch(vals, v);
    if (i < 0) {
      throw new IllegalStateException("value not among the coordinates: " + v);
    }
    // Equal values share a slot so that prefix(lowerBound(x)) counts exactly those < x.
    return lowerBound(vals, v);
  }

  /** How many of the sorted {@code vals} are less than {@code x}. */
  private static int lowerBound(long[] vals, long x) {
    int lo = 0;
    int hi = vals.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (vals[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Prefix sums over positions 0..n-1. */
  private static final class Fenwick {
    private final long[] tree;

    Fenwick(int n) {
      tree = new long[n + 1];
    }

    void add(int pos, long v) {
      for (int i = pos + 1; i < tree.length; i += i & -i) {
        tree[i] += v;
      }
    }

    /** The sum over positions {@code 0..n-1}. */
    long prefix(int n) {
      long s = 0;
      for (int i = n; i > 0; i -= i & -i) {
        s += tree[i];
      }
      return s;
    }
  }
}
