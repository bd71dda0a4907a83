package io.polybus.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(90)
class OrderPipelineDemoTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return OrderPipelineDemo.run(
        args,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void shouldPrintTheDeadLetterAndTheSummaryAndExitZero() {
    assertThat(run("--uri", "mem:", "--orders", "200")).as(err()).isEqualTo(OrderPipelineDemo.OK);

    assertThat(out())
        .contains(
            "dead letter on orders.inventory.dlq: order ord-000100 (SKU "
                + OrderPipeline.POISON_SKU
                + ")")
        .contains("attempts  3")
        .contains("published       200")
        .contains("processed       email 200, inventory 199, analytics 200")
        .contains("retried         2 (3 failed attempts)")
        .contains("dead-lettered   1")
        .contains("request-reply (the order service asks 'pricing' on topic 'quotes')")
        .contains(
            "  remote failure  the responder on topic 'quotes' failed: "
                + UnknownSkuException.class.getName()
                + ": unknown SKU '"
                + OrderPipeline.POISON_SKU
                + "'")
        .endsWith("OK" + System.lineSeparator());
    assertThat(out().lines().count()).as("no per-message output").isLessThan(30);
    assertThat(out().lines())
        .as("the quotes: every one answered, with the median round trip")
        .anyMatch(l -> l.matches("  quotes {10}20 of 20 answered, p50 [0-9]+\\.[0-9]{2} ms"));
    assertThat(out().lines())
        .as("the metrics table: consumed counts every attempt, lag 0 at the end")
        .anyMatch(l -> l.matches("\\s+email\\s+200\\s+0\\s+0\\s+\\S+\\s+\\S+\\s+0"))
        .anyMatch(l -> l.matches("\\s+inventory\\s+202\\s+2\\s+1\\s+\\S+\\s+\\S+\\s+0"))
        .anyMatch(l -> l.matches("\\s+dlq-report\\s+1\\s+0\\s+0\\s+\\S+\\s+\\S+\\s+0"));
    assertThat(out()).doesNotContain("poison order's trace");
    assertThat(err()).isEmpty();
  }

  @Test
  void shouldPrintThePoisonOrdersTraceFromPublishThroughItsAttemptsToTheDeadLetter() {
    assertThat(run("--uri", "mem:", "--orders", "50", "--traces"))
        .as(err())
        .isEqualTo(OrderPipelineDemo.OK);
    String out = out();
    assertThat(out).contains("the poison order's trace (polybus-opentelemetry)");
    String trace = out.substring(out.indexOf("the poison order's trace"));
    assertThat(trace)
        .contains("send orders")
        .contains("process orders  group=inventory attempt=1 outcome=retry")
        .contains("process orders  group=inventory attempt=2 outcome=retry")
        .contains("process orders  group=inventory attempt=3 outcome=dead_letter")
        .contains("dead_letter orders.inventory.dlq  group=inventory")
        .contains("process orders.inventory.dlq  group=dlq-report attempt=1 outcome=ack")
        .contains("process orders  group=email attempt=1 outcome=ack")
        .contains("(8 spans)");
  }

  @Test
  void shouldAcceptOptionsWithEqualsSigns() {
    assertThat(run("--uri=mem:", "--orders=10", "--timeout=30"))
        .as(err())
        .isEqualTo(OrderPipelineDemo.OK);
  }

  @Test
  void shouldPrintUsageForHelpAndExitZero() {
    assertThat(run("--help")).isEqualTo(OrderPipelineDemo.OK);
    assertThat(out()).startsWith("usage: demo");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--orders=0",
        "--orders=ten",
        "--orders",
        "--bogus",
        "--uri=",
        "--timeout=0",
        "extra"
      })
  void shouldRejectBadArgumentsWithExitCodeTwo(String arg) {
    assertThat(run(arg)).isEqualTo(OrderPipelineDemo.USAGE);
    assertThat(err()).startsWith("error: ").contains("usage: demo");
    assertThat(out()).isEmpty();
  }

  @Test
  void shouldRejectAUriWithoutBackendWithExitCodeTwo() {
    assertThat(run("--uri", "nosuchbackend://localhost")).isEqualTo(OrderPipelineDemo.USAGE);
    assertThat(err()).startsWith("error: ").contains("nosuchbackend").contains("mem");
  }
}
