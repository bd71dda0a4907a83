package io.polybus.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a bench run as one self-contained HTML page: the figures, and the latency by percentile as
 * an inline SVG chart on HdrHistogram's usual axis (x = 1/(1-p), logarithmic, so the tail gets
 * room). No script, no network.
 *
 * <p>Stateless; thread-safe.
 */
final class BenchReport {
  private static final double[] PERCENTILES = {
    0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100
  };
  private static final int W = 720;
  private static final int H = 360;
  private static final int PAD = 50;

  private BenchReport() {}

  static void write(Path file, BenchResult r) throws IOException {
    Files.writeString(file, html(r), StandardCharsets.UTF_8);
  }

  static String html(BenchResult r) {
    StringBuilder rows = new StringBuilder();
    for (double p : PERCENTILES) {
      rows.append(
          String.format(
              Locale.ROOT, "<tr><td>%s</td><td>%.3f</td></tr>%n", label(p), r.percentileMillis(p)));
    }
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>polybus bench</title>\n"
        + "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;"
        + "text-align:right}</style></head><body>\n"
        + "<h1>polybus bench</h1>\n"
        + String.format(
            Locale.ROOT,
            "<p>%s: %d messages of %d bytes, %d keys</p>%n"
                + "<p>publish %.0f msg/s, consume %.0f msg/s; publish&rarr;handler latency "
                + "p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms</p>%n",
            escape(r.uri()),
            r.messages(),
            r.size(),
            r.keys(),
            r.publishRate(),
            r.consumeRate(),
            r.percentileMillis(50),
            r.percentileMillis(99),
            r.percentileMillis(99.9))
        + svg(r)
        + "\n<table><tr><th>percentile</th><th>latency (ms)</th></tr>\n"
        + rows
        + "</table>\n</body></html>\n";
  }

  private static String svg(BenchResult r) {
    double maxX = Math.log10(x(99.99));
    double maxY = Math.max(0.001, r.percentileMillis(100));
    StringBuilder points = new StringBuilder();
    StringBuilder ticks = new StringBuilder();
    for (double p : PERCENTILES) {
      if (p > 99.99) {
        continue;
      }
      double px = PAD + (W - 2 * PAD) * Math.log10(x(p)) / maxX;
      double py = H - PAD - (H - 2 * PAD) * r.percentileMillis(p) / maxY;
      points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
      if (p == 0 || p == 50 || p == 90 || p == 99 || p == 99.9 || p == 99.99) {
        ticks.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>",
                px,
                H - PAD + 16,
                label(p)));
      }
    }
    return String.format(
        Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">"
            + "<rect width=\"100%%\" height=\"100%%\" fill=\"white\" stroke=\"#ccc\"/>"
            + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>"
            + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>"
            + "<text x=\"%d\" y=\"%d\" font-size=\"11\">%.2f ms</text>"
            + "<text x=\"%d\" y=\"%d\" font-size=\"11\">0</text>%s"
            + "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">percentile</text>"
            + "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"%s\"/>"
            + "</svg>",
        W,
        H,
        PAD,
        H - PAD,
        W - PAD,
        H - PAD,
        PAD,
        PAD,
        PAD,
        H - PAD,
        4,
        PAD,
        maxY,
        30,
        H - PAD,
        ticks,
        W / 2,
        H - 10,
        points.toString().strip());
  }

  // HdrHistogram's percentile axis: 1/(1-p), so 90 -> 10, 99 -> 100, 99.9 -> 1000.
  private static double x(double percentile) {
    return 1 / (1 - Math.min(percentile, 99.99) / 100);
  }

  private static String label(double p) {
    return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
