package io.polybus.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Ordering;
import io.polybus.samples.OrderPipeline.DeadLetter;
import io.polybus.samples.OrderPipeline.ServiceStats;
import io.polybus.samples.OrderPipeline.Summary;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(90)
class OrderPipelineTest {
  private static final int ORDERS = 300;
  private static final int MAX_ATTEMPTS = OrderPipeline.RETRY_POLICY.maxAttempts();

  @Test
  void shouldHandleEveryGoodOrderOnceInEachServiceAndDeadLetterOnlyThePoisonOrder() {
    Summary summary = OrderPipeline.run("mem:", ORDERS);

    assertThat(summary.problems()).isEmpty();
    assertThat(summary.ok()).isTrue();
    assertThat(summary.ordering()).isEqualTo(Ordering.KEY);
    assertThat(summary.published()).isEqualTo(ORDERS);
    assertExactlyOnce(summary.service("email"), ORDERS);
    assertExactlyOnce(summary.service("analytics"), ORDERS);
    assertExactlyOnce(summary.service("inventory"), ORDERS - 1);
    assertThat(summary.service("email").failedAttempts()).isZero();
    assertThat(summary.service("analytics").failedAttempts()).isZero();
    assertThat(summary.services())
        .allSatisfy(s -> assertThat(s.outOfOrder()).as(s.name()).isZero());
    assertThat(summary.staleIgnored()).isZero();
  }

  @Test
  void shouldRetryThePoisonOrderUpToMaxAttemptsAndReportItsDeadLetterHeaders() {
    Summary summary = OrderPipeline.run("mem:", ORDERS);

    ServiceStats inventory = summary.service("inventory");
    assertThat(inventory.failedAttempts()).isEqualTo(MAX_ATTEMPTS);
    assertThat(inventory.retried()).isEqualTo(MAX_ATTEMPTS - 1);
    assertThat(summary.retried()).isEqualTo(MAX_ATTEMPTS - 1);
    assertThat(summary.deadLettered()).isEqualTo(1);

    DeadLetter letter = summary.deadLetters().get(0);
    assertThat(letter.sku()).isEqualTo(OrderPipeline.POISON_SKU);
    assertThat(letter.orderId()).isEqualTo(String.format("ord-%06d", ORDERS / 2));
    assertThat(letter.messageId()).hasSize(26);
    assertThat(letter.sourceTopic()).isEqualTo(OrderPipeline.TOPIC);
    assertThat(letter.group()).isEqualTo("inventory");
    assertThat(letter.attempts()).isEqualTo(MAX_ATTEMPTS);
    assertThat(letter.errorClass()).isEqualTo(UnknownSkuException.class.getName());
    assertThat(letter.reason())
        .contains(MAX_ATTEMPTS + " of " + MAX_ATTEMPTS + " attempts")
        .contains(UnknownSkuException.class.getName())
        .contains("unknown SKU '" + OrderPipeline.POISON_SKU + "'");
  }

  @Test
  void shouldRunTheSamePipelineOnTheEmbeddedLog(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    Summary summary = OrderPipeline.run("log:" + dir + "?segmentSize=4m", ORDERS);
    assertThat(summary.problems()).isEmpty();
    assertThat(summary.ok()).isTrue();
    assertThat(summary.ordering()).isEqualTo(Ordering.KEY);
    assertExactlyOnce(summary.service("email"), ORDERS);
    assertExactlyOnce(summary.service("analytics"), ORDERS);
    assertExactlyOnce(summary.service("inventory"), ORDERS - 1);
  }

  @Test
  void shouldAnswerEveryQuoteByRequestReplyAndFailThePoisonSkusQuoteRemotely() {
    Summary summary = OrderPipeline.run("mem:", ORDERS);

    assertThat(summary.problems()).isEmpty();
    OrderPipeline.Quotes quotes = summary.quotes();
    assertThat(quotes.asked()).isEqualTo(PriceQuotes.REQUESTS);
    assertThat(quotes.answered()).as("correct quotes").isEqualTo(PriceQuotes.REQUESTS);
    assertThat(quotes.p50Millis()).as("median round trip, ms").isPositive();
    assertThat(quotes.remoteFailure())
        .as("how the poison SKU's quote failed")
        .isEqualTo(
            "the responder on topic 'quotes' failed: "
                + UnknownSkuException.class.getName()
                + ": unknown SKU '"
                + OrderPipeline.POISON_SKU
                + "'");
  }

  @Test
  void shouldCompleteWhenTheOnlyOrderIsThePoisonOrder() {
    Summary summary = OrderPipeline.run("mem:", 1, Duration.ofSeconds(30), line -> {});

    assertThat(summary.problems()).isEmpty();
    assertExactlyOnce(summary.service("email"), 1);
    assertExactlyOnce(summary.service("inventory"), 0);
    assertThat(summary.deadLettered()).isEqualTo(1);
  }

  private static void assertExactlyOnce(ServiceStats stats, long orders) {
    assertThat(stats.expected()).as(stats.name() + " expected").isEqualTo(orders);
    assertThat(stats.distinct()).as(stats.name() + " distinct orders").isEqualTo(orders);
    assertThat(stats.processed()).as(stats.name() + " handler successes").isEqualTo(orders);
    assertThat(stats.duplicates()).as(stats.name() + " duplicates").isZero();
  }
}
