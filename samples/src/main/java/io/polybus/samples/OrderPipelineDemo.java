package io.polybus.samples;

import io.polybus.ConfigurationException;
import io.polybus.PolybusException;
import io.polybus.samples.outbox.OutboxOrderEvents;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Command line of the order pipeline demo: {@code OrderPipelineDemo [--uri <uri>] [--orders <n>]
 * [--timeout <seconds>] [--traces] [--outbox[=<jdbc url>]]}.
 *
 * <p>Runs {@link OrderPipeline} once, prints the dead letter, a summary and the quotes asked for by
 * request-reply, and exits with 0 when the pipeline completed as it should, 1 when it did not (or
 * the backend failed), and 2 for bad arguments or an unusable URI.
 */
public final class OrderPipelineDemo {
  /** Exit code: the pipeline completed as it should. */
  public static final int OK = 0;

  /** Exit code: the pipeline did not complete, or the backend failed. */
  public static final int FAILED = 1;

  /** Exit code: bad arguments or a URI no backend accepts. */
  public static final int USAGE = 2;

  /**
   * The embedded default backend: Polybus's own log, in ./polybus-data (kept between runs, like a
   * broker's data).
   */
  static final String DEFAULT_URI = "log:./polybus-data";

  static final int DEFAULT_ORDERS = 1000;
  static final int MAX_ORDERS = 10_000_000;

  private static final String USAGE_TEXT =
      String.join(
          System.lineSeparator(),
          "usage: demo [--uri <uri>] [--orders <n>] [--timeout <seconds>] [--traces] [--outbox[=<jdbc"
              + " url>]]",
          "",
          "Publishes <n> OrderCreated events to 'orders'; the email, inventory and analytics services consume them,",
          "and one poison order ends up in '"
              + OrderPipeline.DEAD_LETTER_TOPIC
              + "'. Then the order service asks the pricing service",
          "for "
              + PriceQuotes.REQUESTS
              + " quotes by request-reply, and one for the poison SKU, which fails remotely.",
          "",
          "  --uri <uri>          backend URI (default " + DEFAULT_URI + ")",
          "  --orders <n>         orders to publish, 1 to "
              + MAX_ORDERS
              + " (default "
              + DEFAULT_ORDERS
              + ")",
          "  --timeout <seconds>  how long to wait for the services once published (default "
              + OrderPipeline.DEFAULT_TIMEOUT.toSeconds()
              + ")",
          "  --traces             trace with OpenTelemetry and print the poison order's trace",
          "  --outbox[=<jdbc url>] write each order row and its event in one PostgreSQL transaction"
              + " (polybus-outbox) and let a relay forward the events (default "
              + OutboxOrderEvents.DEFAULT_JDBC_URL
              + ")",
          "  -h, --help           show this help");

  private OrderPipelineDemo() {}

  /** Runs the demo and exits the JVM with its exit code. */
  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the demo without exiting; returns the exit code. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    String uri = DEFAULT_URI;
    int orders = DEFAULT_ORDERS;
    Duration timeout = OrderPipeline.DEFAULT_TIMEOUT;
    boolean traces = false;
    String outboxJdbc = null;
    try {
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        String value = null;
        int eq = arg.indexOf('=');
        if (arg.startsWith("--") && eq > 0) {
          value = arg.substring(eq + 1);
          arg = arg.substring(0, eq);
        }
        switch (arg) {
          case "-h", "--help" -> {
            out.println(USAGE_TEXT);
            return OK;
          }
          case "--uri" -> {
            uri = value != null ? value : valueOf(args, ++i, arg);
            if (uri.isBlank()) {
              throw new IllegalArgumentException("--uri must not be empty");
            }
          }
          case "--orders" ->
              orders =
                  intValue(value != null ? value : valueOf(args, ++i, arg), arg, 1, MAX_ORDERS);
          case "--traces" -> {
            if (value != null) {
              throw new IllegalArgumentException("--traces takes no value");
            }
            traces = true;
          }
          case "--outbox" ->
              outboxJdbc = value != null ? value : OutboxOrderEvents.DEFAULT_JDBC_URL;
          case "--timeout" ->
              timeout =
                  Duration.ofSeconds(
                      intValue(value != null ? value : valueOf(args, ++i, arg), arg, 1, 3600));
          default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
        }
      }
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      err.println(USAGE_TEXT);
      return USAGE;
    }

    OrderPipeline.Summary summary;
    try {
      OrderPipeline.OrderEvents events =
          outboxJdbc == null
              ? OrderPipeline.DIRECT
              : new OutboxOrderEvents(outboxJdbc, out::println);
      summary = OrderPipeline.run(uri, orders, timeout, out::println, traces, events);
    } catch (ConfigurationException e) {
      err.println("error: " + e.getMessage());
      return USAGE;
    } catch (PolybusException e) {
      err.println("error: the backend failed: " + e.getMessage());
      return FAILED;
    } catch (IllegalStateException e) {
      if (outboxJdbc == null) {
        throw e;
      }
      err.println("error: the outbox failed: " + e.getMessage());
      return FAILED;
    }
    print(summary, out);
    if (!summary.ok()) {
      err.println("FAILED: the pipeline did not complete as expected:");
      summary.problems().forEach(p -> err.println("  - " + p));
      return FAILED;
    }
    return OK;
  }

  private static void print(OrderPipeline.Summary s, PrintStream out) {
    for (OrderPipeline.DeadLetter d : s.deadLetters()) {
      out.println(
          "dead letter on "
              + OrderPipeline.DEAD_LETTER_TOPIC
              + ": order "
              + d.orderId()
              + " (SKU "
              + d.sku()
              + ")");
      out.println("  id        " + d.messageId());
      out.println("  from      " + d.sourceTopic() + " / group " + d.group());
      out.println("  attempts  " + d.attempts());
      out.println("  reason    " + d.reason());
    }
    out.println("summary");
    out.println("  published       " + s.published());
    StringBuilder processed = new StringBuilder();
    for (OrderPipeline.ServiceStats st : s.services()) {
      processed
          .append(processed.length() == 0 ? "" : ", ")
          .append(st.name())
          .append(' ')
          .append(st.processed());
    }
    out.println("  processed       " + processed);
    out.println(
        "  retried         " + s.retried() + " (" + s.failedAttempts() + " failed attempts)");
    out.println("  dead-lettered   " + s.deadLettered());
    if (s.staleIgnored() > 0) {
      out.println(
          "  ignored         " + s.staleIgnored() + " messages left over from earlier runs");
    }
    out.println("  elapsed         " + s.elapsedMillis() + " ms");
    OrderPipeline.Quotes q = s.quotes();
    if (q.asked() > 0) {
      out.println(
          "request-reply (the order service asks '"
              + PriceQuotes.GROUP
              + "' on topic '"
              + PriceQuotes.TOPIC
              + "')");
      out.println(
          "  quotes          "
              + q.answered()
              + " of "
              + q.asked()
              + " answered, p50 "
              + millis(q.p50Millis())
              + " ms");
      if (q.remoteFailure() != null) {
        out.println("  remote failure  " + q.remoteFailure());
      }
    }
    out.println("metrics (polybus-micrometer), per consumer group");
    out.println(
        String.format(
            "  %-10s %9s %8s %14s %9s %9s %6s",
            "group", "consumed", "retried", "dead-lettered", "p50 ms", "p99 ms", "lag"));
    for (OrderPipeline.Figures f : s.figures()) {
      out.println(
          String.format(
              "  %-10s %9d %8d %14d %9s %9s %6s",
              f.group(),
              f.consumed(),
              f.retried(),
              f.deadLettered(),
              millis(f.p50Millis()),
              millis(f.p99Millis()),
              Double.isNaN(f.lag()) ? "n/a" : Long.toString((long) f.lag())));
    }
    if (!s.poisonTrace().isEmpty()) {
      out.println("the poison order's trace (polybus-opentelemetry)");
      s.poisonTrace().forEach(line -> out.println("  " + line));
    }
    if (s.ok()) {
      out.println("OK");
    }
  }

  private static String millis(double v) {
    return Double.isNaN(v) ? "-" : String.format("%.2f", v);
  }

  private static String valueOf(String[] args, int i, String option) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static int intValue(String text, String option, int min, int max) {
    int v;
    try {
      v = Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a whole number, got '" + text + "'");
    }
    if (v < min || v > max) {
      throw new IllegalArgumentException(
          option + " must be between " + min + " and " + max + ", got " + v);
    }
    return v;
  }
}
