package io.polybus.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OvertakenTimeTest {

  @Test
  void countsOnlyHandlerTimeOfLaterReadyHandlingsInsideTheWaitDividedByTheThreads() {
    OvertakenTime ot = new OvertakenTime(4);
    ot.handling(0, 10, 20); // the waiting message itself
    ot.handling(5, 0, 10); // ready later, ran during the whole wait [0, 10)
    ot.handling(5, 0, 8); // ready later, ran during 8 of it
    ot.handling(0, 0, 10); // ready with it: does not overtake

    double[] got = ot.overtaken(new long[] {0, 5}, new long[] {10, 12}, 2);

    assertThat(got[0]).isEqualTo((10 + 8) / 2.0);
    assertThat(got[1]).isZero(); // nothing became ready after 5
  }

  @Test
  void agreesWithTheDefinitionOnRandomHandlings() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 200; round++) {
      int n = 1 + random.nextInt(40);
      long[] r = new long[n];
      long[] s = new long[n];
      long[] e = new long[n];
      OvertakenTime ot = new OvertakenTime(n);
      for (int i = 0; i < n; i++) {
        r[i] = random.nextInt(50);
        s[i] = random.nextInt(100);
        e[i] = s[i] + random.nextInt(30);
        ot.handling(r[i], s[i], e[i]);
      }
      int q = 1 + random.nextInt(20);
      long[] qr = new long[q];
      long[] qs = new long[q];
      for (int i = 0; i < q; i++) {
        qr[i] = random.nextInt(60);
        qs[i] = qr[i] + random.nextInt(60);
      }

      double[] got = ot.overtaken(qr, qs, 3);

      for (int i = 0; i < q; i++) {
        long busy = 0;
        for (int j = 0; j < n; j++) {
          if (r[j] > qr[i]) {
            busy += Math.max(0, Math.min(e[j], qs[i]) - Math.max(s[j], qr[i]));
          }
        }
        assertThat(got[i]).isCloseTo(busy / 3.0, within(1e-9));
      }
    }
  }
}
