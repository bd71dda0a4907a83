package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the tool does whatever the backend: exit codes and one-line messages for bad input, health,
 * secrets, peek, help and completion, bench. Runs on the embedded log in a temporary directory
 * (Redis only where an unreachable broker is the point).
 */
class ToolBehaviourIT {
  private static final String SECRET = "hunter2-Secret";

  @TempDir Path dir;

  private Cli cli() {
    return new Cli(dir, Map.of());
  }

  private String uri() {
    return "log:" + dir.resolve("data");
  }

  @Test
  void eachClassOfBadInputHasItsOwnExitCodeAndOneLine() throws Exception {
    Cli cli = cli();
    Cli.Result unknownOption = cli.run("consume", "t", "--group", "g", "--bogus");
    Cli.Result badUri = cli.run("lag", "t", "g", "--uri", "nosuch://host");
    Cli.Result badTopic = cli.run("lag", "not a topic", "g", "--uri", uri());
    Cli.Result badJson =
        cli.runWithInput(
            "{\"payload\":\"ok\"}\n{oops\n".getBytes(StandardCharsets.UTF_8),
            "publish",
            "t",
            "--json",
            "--uri",
            uri());

    assertThat(unknownOption.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(unknownOption.stderr()).contains("--bogus").hasLineCount(1);
    assertThat(badUri.exitCode()).isEqualTo(ExitCode.CONFIGURATION);
    assertThat(badUri.stderr()).contains("nosuch").hasLineCount(1);
    assertThat(badTopic.exitCode()).isEqualTo(ExitCode.INVALID_NAME);
    assertThat(badTopic.stderr()).contains("invalid topic name 'not a topic'").hasLineCount(1);
    assertThat(badJson.exitCode()).isEqualTo(ExitCode.BAD_MESSAGE);
    assertThat(badJson.stderr()).contains("input line 2").hasLineCount(1);
    for (Cli.Result r : new Cli.Result[] {unknownOption, badUri, badTopic, badJson}) {
      assertThat(r.stderr()).doesNotContain("\tat ").doesNotContain("Exception:");
    }
    // Nothing of the bad file was published.
    try (Polybus bus = Polybus.connect(uri())) {
      assertThat(bus.lag("t", "any").total()).isZero();
    }
  }

  @Test
  void healthExitsZeroWhenUpAndFiveWithTheReasonWhenTheBrokerIsUnreachable() {
    Cli.Result up = cli().run("health", "--uri", uri());
    Cli.Result down = cli().run("health", "--uri", "redis://127.0.0.1:1");

    assertThat(up.exitCode()).isZero();
    assertThat(up.stdout()).startsWith("up: log:");
    assertThat(down.exitCode()).isEqualTo(ExitCode.UNAVAILABLE);
    assertThat(down.stderr()).contains("127.0.0.1:1").hasLineCount(1);
  }

  @Test
  void aPasswordNeverAppearsInAnyOutputWhereverTheUriComesFrom() throws Exception {
    String uri = "redis://admin:" + SECRET + "@127.0.0.1:1";
    Path config = dir.resolve("polybus.properties");
    Files.writeString(config, "polybus.uri=" + uri + "\n");

    Cli.Result flag = cli().run("health", "--uri", uri, "--verbose");
    Cli.Result env = new Cli(dir, Map.of(UriSource.URI_ENV, uri)).run("lag", "t", "g");
    Cli.Result file = cli().run("consume", "t", "-g", "g", "--config", config.toString());

    for (Cli.Result r : new Cli.Result[] {flag, env, file}) {
      assertThat(r.exitCode()).isEqualTo(ExitCode.UNAVAILABLE);
      assertThat(r.all()).doesNotContain(SECRET).contains("admin:****@127.0.0.1:1");
    }
  }

  @Test
  void aPeekPrintsMessagesAndGivesThemBackToTheGroup() throws Exception {
    try (Polybus bus = Polybus.connect(uri())) {
      bus.subscribe("peeked", "g", d -> {}, SubscribeOptions.defaults()).close();
      bus.publishAndWait("peeked", Message.of("k", "first"));
      bus.publishAndWait("peeked", Message.of("k", "second"));

      Cli.Result r =
          cli()
              .run("consume", "peeked", "-g", "g", "--peek", "-n", "2", "-f", "raw", "--uri", uri())
              .expectOk();

      assertThat(r.stdout()).isEqualTo("first\nsecond\n");
      assertThat(bus.lag("peeked", "g").total()).isEqualTo(2);
      BlockingQueue<Delivery> got = new LinkedBlockingQueue<>();
      Subscription sub = bus.subscribe("peeked", "g", got::add, SubscribeOptions.defaults());
      Delivery first = got.poll(10, TimeUnit.SECONDS);
      assertThat(first.message().payloadAsString()).isEqualTo("first");
      // A look uses up no attempt (log: declares uncountedGiveBack): see docs/cli.md, "Peek".
      assertThat(first.attempt()).isEqualTo(1);
      sub.close();
    }
  }

  @Test
  void consumeExitsOneWhenFewerThanCountArriveBeforeTheTimeout() {
    Cli.Result r =
        cli().run("consume", "empty", "-g", "g", "-n", "1", "--timeout", "500ms", "--uri", uri());

    assertThat(r.exitCode()).isEqualTo(ExitCode.INCOMPLETE);
    assertThat(r.stderr()).contains("0 of 1 messages");
  }

  @Test
  void versionHelpOnEverySubcommandAndCompletionArePrinted() {
    Cli.Result version = cli().run("--version");
    Cli.Result help = cli().run("dlq", "redrive", "--help");
    Cli.Result completion = cli().run("completion");

    assertThat(version.expectOk().stdout()).startsWith("polybus 0.1.0");
    assertThat(help.expectOk().stdout()).contains("Usage: polybus dlq redrive", "--dry-run");
    assertThat(completion.expectOk().stdout())
        .contains("complete -F")
        .contains("consume")
        .contains("redrive");
  }

  @Test
  void benchReportsThroughputAndPercentilesAndWritesAnHtmlChart() throws Exception {
    Path html = dir.resolve("bench.html");

    Cli.Result r =
        cli()
            .run(
                "bench",
                "--messages",
                "300",
                "--size",
                "64",
                "--keys",
                "4",
                "--html",
                html.toString(),
                "--uri",
                uri())
            .expectOk();

    assertThat(r.stdout()).contains("msg/s", "p50", "p99", "p99.9");
    assertThat(Files.readString(html)).contains("<svg", "<polyline", "p99.9");
  }

  @Test
  void publishPrintsAReceiptPerMessageAndCountRepeatsTheInputWithNewIds() throws Exception {
    try (Polybus bus = Polybus.connect(uri())) {
      bus.subscribe("load", "g", d -> {}, SubscribeOptions.defaults()).close();

      Cli.Result r =
          cli()
              .run("publish", "load", "a", "b", "--count", "5", "--rate", "1000", "--uri", uri())
              .expectOk();

      assertThat(r.lines()).hasSize(5);
      assertThat(r.lines().stream().map(l -> l.split("\t")[2]).distinct()).hasSize(5);
      assertThat(bus.lag("load", "g").total()).isEqualTo(5);
    }
  }

  @Test
  void publishWithADelayTheBackendCannotHoldPublishesNothingAndHighPriorityGoesToTheLane()
      throws Exception {
    try (Polybus bus = Polybus.connect(uri())) {
      bus.subscribe("urgent", "g", d -> {}, SubscribeOptions.builder().priority(true).build())
          .close();

      Cli.Result delayed =
          cli().run("publish", "urgent", "later", "--deliver-after", "5m", "--uri", uri());
      assertThat(delayed.exitCode()).as(delayed.stderr()).isEqualTo(ExitCode.CONFIGURATION);
      assertThat(delayed.stderr()).contains("maxDeliveryDelay").contains("cannot delay");
      assertThat(bus.lag("urgent", "g").total()).isZero();

      cli().run("publish", "urgent", "now", "--priority", "HIGH", "--uri", uri()).expectOk();
      assertThat(bus.lag("urgent", "g").total()).as("the normal lane").isZero();
      assertThat(bus.lag("polybus.high.urgent", "polybus.high.g").total())
          .as("the high-priority lane")
          .isEqualTo(1);
    }
  }
}
