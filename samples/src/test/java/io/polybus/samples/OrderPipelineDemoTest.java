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
        .endsWith("OK" + System.lineSeparator());
    assertThat(out().lines().count()).as("no per-message output").isLessThan(20);
    assertThat(err()).isEmpty();
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
