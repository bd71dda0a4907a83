package io.polybus.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.polybus.ConsumerLag;
import io.polybus.DeadLetterHeaders;
import io.polybus.Delivery;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool against one backend, checked with the library on the other side: what one writes the
 * other reads byte for byte, dead letters listed, shown and redriven by the tool reach a healed
 * library subscriber, and the tool's lag is the library's. Subclasses name the URI.
 */
abstract class BackendRoundTripIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[] BINARY = {0, (byte) 0xff, (byte) 0xc3, 0x28, '\n', 7, (byte) 0x80};
  private static final String KEY = "clé-🚀-ключ";

  @TempDir Path dir;
  Cli cli;
  Polybus bus;
  String topic;

  /** The backend's URI; {@code dir} is a fresh temporary directory. */
  abstract String uri(Path dir);

  /** How long the tool waits for the next message (a Kafka group join takes a moment). */
  String idle() {
    return "15s";
  }

  @BeforeEach
  void connect() {
    cli = new Cli(dir, Map.of(UriSource.URI_ENV, uri(dir)));
    bus = Polybus.connect(uri(dir));
    topic = "cli-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void close() {
    bus.close();
  }

  @Test
  void messagesPublishedByTheToolReachTheLibraryByteForByte() throws Exception {
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Subscription sub = bus.subscribe(topic, "lib", d -> got.add(d.message()), earliest());
    String lines =
        JSON.writeValueAsString(
                Map.of(
                    "key",
                    KEY,
                    "headers",
                    Map.of("ünï-hdr", "välue ✓"),
                    "payload",
                    Base64.getEncoder().encodeToString(BINARY),
                    "encoding",
                    "base64"))
            + "\n"
            + JSON.writeValueAsString(Map.of("payload", "plain ✓ text"))
            + "\n";

    Cli.Result r =
        cli.runWithInput(lines.getBytes(StandardCharsets.UTF_8), "publish", topic, "--json")
            .expectOk();

    assertThat(r.lines()).hasSize(2).allMatch(l -> l.startsWith(topic + "\t"));
    Message first = got.poll(30, TimeUnit.SECONDS);
    Message second = got.poll(30, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(second).isNotNull();
    Message binary = first.key() != null ? first : second;
    Message text = binary == first ? second : first;
    assertThat(binary.payload()).isEqualTo(BINARY);
    assertThat(binary.key()).isEqualTo(KEY);
    assertThat(binary.headers()).containsEntry("ünï-hdr", "välue ✓");
    assertThat(text.payloadAsString()).isEqualTo("plain ✓ text");
    assertThat(r.stdout()).contains(binary.id()).contains(text.id());
    sub.close();
  }

  @Test
  void messagesPublishedByTheLibraryArePrintedByTheToolByteForByte() throws Exception {
    Message sent = Message.builder().key(KEY).header("ünï-hdr", "välue ✓").payload(BINARY).build();
    // The tool's group starts at the earliest message, so it sees what was sent before it joined.
    bus.publishAndWait(topic, sent);

    Cli.Result r =
        cli.run(
                "consume",
                topic,
                "--group",
                "tool",
                "--from",
                "earliest",
                "--count",
                "1",
                "--timeout",
                idle(),
                "--format",
                "json")
            .expectOk();

    JsonNode o = JSON.readTree(r.lines().get(0));
    assertThat(o.get("id").asText()).isEqualTo(sent.id());
    assertThat(o.get("key").asText()).isEqualTo(KEY);
    assertThat(o.get("headers").get("ünï-hdr").asText()).isEqualTo("välue ✓");
    assertThat(o.get("encoding").asText()).isEqualTo("base64");
    assertThat(Base64.getDecoder().decode(o.get("payload").asText())).isEqualTo(BINARY);
    assertThat(o.get("timestamp").asText()).isEqualTo(sent.timestamp().toString());
    // Acked once printed: the group has nothing left.
    assertThat(bus.lag(topic, "tool").total()).isZero();
  }

  @Test
  void lagPrintedByTheToolIsTheLibrarysFigure() throws Exception {
    bus.subscribe(topic, "slow", d -> {}, SubscribeOptions.defaults()).close();
    for (int i = 0; i < 5; i++) {
      bus.publishAndWait(topic, Message.builder().key("k" + i).payload("m" + i).build());
    }
    ConsumerLag expected = bus.lag(topic, "slow");

    Cli.Result r = cli.run("lag", topic, "slow").expectOk();

    assertThat(expected.total()).isEqualTo(5);
    assertThat(r.lines().get(0)).startsWith(topic + " slow: lag 5 (" + expected.accuracy());
    expected
        .partitions()
        .forEach((p, n) -> assertThat(r.lines()).contains("  partition " + p + ": " + n));
  }

  @Test
  void aPoisonMessageIsListedShownAndRedrivenToAHealedSubscriber() throws Exception {
    String dlq = topic + ".work.dlq";
    Message poison = Message.builder().key(KEY).header("ünï-hdr", "v").payload(BINARY).build();
    Subscription failing =
        bus.subscribe(
            topic,
            "work",
            d -> {
              throw new IllegalStateException("cannot handle this");
            },
            earliest()
                .newBuilder()
                .retryPolicy(
                    RetryPolicy.builder()
                        .maxAttempts(2)
                        .initialBackoff(Duration.ofMillis(10))
                        .build())
                .build());
    bus.publishAndWait(topic, poison);
    awaitLag(dlq, Polybus.DEAD_LETTER_GROUP, 1);
    failing.close();

    Cli.Result list = cli.run("dlq", "list", dlq, "--format", "json", "--timeout", idle());
    list.expectOk();
    assertThat(list.lines()).hasSize(1);
    JsonNode headers = JSON.readTree(list.lines().get(0)).get("headers");
    assertThat(headers.get(DeadLetterHeaders.SOURCE_TOPIC).asText()).isEqualTo(topic);
    assertThat(headers.get(DeadLetterHeaders.ATTEMPTS).asText()).isEqualTo("2");
    assertThat(headers.get(DeadLetterHeaders.REASON).asText()).isNotBlank();
    assertThat(headers.get(DeadLetterHeaders.FAILED_AT).asText()).isNotBlank();

    Cli.Result show = cli.run("dlq", "show", dlq, poison.id(), "--timeout", idle()).expectOk();
    assertThat(show.stdout())
        .contains(poison.id(), KEY, DeadLetterHeaders.REASON, "cannot handle this", "ünï-hdr: v")
        .contains(Base64.getEncoder().encodeToString(BINARY));

    Cli.Result redrive =
        cli.run("dlq", "redrive", dlq, "--id", poison.id(), "--timeout", idle()).expectOk();
    assertThat(redrive.stdout()).contains("redrove 1 of 1");
    assertThat(redrive.stderr()).contains("redrove 1/1 " + poison.id() + " -> " + topic);

    BlockingQueue<Delivery> healed = new LinkedBlockingQueue<>();
    Subscription fixed = bus.subscribe(topic, "work", healed::add, SubscribeOptions.defaults());
    Delivery d = healed.poll(30, TimeUnit.SECONDS);
    assertThat(d).isNotNull();
    assertThat(d.message().id()).isEqualTo(poison.id());
    assertThat(d.message().payload()).isEqualTo(BINARY);
    assertThat(d.message().headers())
        .containsEntry("ünï-hdr", "v")
        .doesNotContainKeys(DeadLetterHeaders.ALL.toArray(new String[0]));
    fixed.close();
    awaitLag(dlq, Polybus.DEAD_LETTER_GROUP, 0);
  }

  static SubscribeOptions earliest() {
    return SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build();
  }

  void awaitLag(String t, String group, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    long last = -1;
    while (System.nanoTime() < deadline) {
      last = bus.lag(t, group).total();
      if (last == expected) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("lag of " + t + "/" + group + " stayed " + last + ", not " + expected);
  }
}
