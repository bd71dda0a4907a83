package io.polybus.outbox;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.Publisher;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A relay in a JVM of its own, for {@link RelayCrashTest}: {@code RelayChild <jdbc url> <table>
 * <log directory> <batch size> <hang at publish n>}. Its publisher passes every publish through to
 * a {@code log:} bus, except that after the broker confirmed the n-th one it prints {@code
 * CONFIRMED <ids>} and blocks forever, so the relay never deletes those rows: the parent kills it
 * there with SIGKILL, between confirmation and delete.
 */
public final class RelayChild {
  private RelayChild() {}

  public static void main(String[] args) throws Exception {
    String jdbcUrl = args[0];
    String table = args[1];
    String logDir = args[2];
    int batchSize = Integer.parseInt(args[3]);
    int hangAt = Integer.parseInt(args[4]);
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(jdbcUrl);
    config.setMaximumPoolSize(2);
    HikariDataSource pool = new HikariDataSource(config);
    Polybus bus = Polybus.connect("log:" + logDir);
    AtomicInteger calls = new AtomicInteger();
    Publisher hanging =
        new Publisher() {
          @Override
          public CompletableFuture<PublishReceipt> publish(String topic, Message message) {
            return publishAll(topic, List.of(message)).thenApply(r -> r.get(0));
          }

          @Override
          public CompletableFuture<List<PublishReceipt>> publishAll(
              String topic, List<Message> messages) {
            if (calls.incrementAndGet() != hangAt) {
              return bus.publishAll(topic, messages);
            }
            List<PublishReceipt> confirmed = bus.publishAll(topic, messages).join();
            System.out.println(
                "CONFIRMED "
                    + confirmed.stream()
                        .map(PublishReceipt::messageId)
                        .collect(Collectors.joining(",")));
            System.out.flush();
            try {
              Thread.sleep(Long.MAX_VALUE); // the relay waits for this publish: no delete
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("unreachable: the parent kills this process");
          }

          @Override
          public PublishReceipt publishAndWait(String topic, Message message) {
            return publish(topic, message).join();
          }

          @Override
          public List<PublishReceipt> publishAllAndWait(String topic, List<Message> messages) {
            return publishAll(topic, messages).join();
          }
        };
    OutboxRelay.builder(pool, hanging)
        .table(table)
        .batchSize(batchSize)
        .createTable(false)
        .build()
        .start();
    System.out.println("STARTED");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
