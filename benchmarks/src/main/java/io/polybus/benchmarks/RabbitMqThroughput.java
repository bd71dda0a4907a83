package io.polybus.benchmarks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Polybus on RabbitMQ against a raw {@code amqp-client} program doing the same work, side by side,
 * 100-byte persistent messages, one fanout exchange and one quorum queue (the topology Polybus
 * itself declares):
 *
 * <ul>
 *   <li>publish: every message confirmed (publisher confirms), at most {@code --window} unconfirmed
 *       at a time; raw publishes one by one on one channel with an asynchronous confirm listener,
 *       Polybus calls {@code publishAll} with batches of {@code --batch};
 *   <li>consume: the backlog just published, drained with prefetch {@code --prefetch} and one ack
 *       per message; raw with a {@code DefaultConsumer}, Polybus with a handler ({@code
 *       maxInFlight} = prefetch, {@code Ordering.NONE}).
 * </ul>
 *
 * The sides run one after the other on fresh names, which one first alternating; the median of
 * {@code --runs} runs is reported, after one warm-up run of each. Usage: {@code RabbitMqThroughput
 * [--uri rabbitmq://guest:guest@127.0.0.1:5672] [--messages 100000] [--runs 3] [--window 5000]
 * [--batch 500] [--prefetch 1024]}. Everything it declares is deleted.
 */
public final class RabbitMqThroughput {
  private static String uri = "rabbitmq://guest:guest@127.0.0.1:5672";
  private static int messages = 100_000;
  private static int window = 5_000;
  private static int batch = 500;
  private static int prefetch = 1024;

  public static void main(String[] args) throws Exception {
    int runs = 3;
    for (int i = 0; i < args.length; i += 2) {
      String v = args[i + 1];
      switch (args[i]) {
        case "--uri":
          uri = v;
          break;
        case "--messages":
          messages = Integer.parseInt(v);
          break;
        case "--runs":
          runs = Integer.parseInt(v);
          break;
        case "--window":
          window = Integer.parseInt(v);
          break;
        case "--batch":
          batch = Integer.parseInt(v);
          break;
        case "--prefetch":
          prefetch = Integer.parseInt(v);
          break;
        default:
          throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    double[][] rates =
        new double[4][runs]; // raw publish, raw consume, polybus publish, polybus consume
    for (int r = -1; r < runs; r++) {
      // Which side goes first alternates, so neither always meets a broker still busy with the
      // other's queue.
      boolean rawFirst = (r & 1) == 0;
      double[] raw = rawFirst ? raw() : null;
      double[] bus = polybus();
      if (!rawFirst) {
        raw = raw();
      }
      String label = r < 0 ? "warm-up" : "run " + (r + 1);
      System.out.printf(
          Locale.ROOT,
          "%s: raw publish %,.0f  polybus publish %,.0f  raw consume %,.0f  polybus "
              + "consume %,.0f msg/s%n",
          label,
          raw[0],
          bus[0],
          raw[1],
          bus[1]);
      if (r >= 0) {
        rates[0][r] = raw[0];
        rates[1][r] = raw[1];
        rates[2][r] = bus[0];
        rates[3][r] = bus[1];
      }
    }
    double rp = Stats.median(rates[0]);
    double rc = Stats.median(rates[1]);
    double pp = Stats.median(rates[2]);
    double pc = Stats.median(rates[3]);
    System.out.printf(
        Locale.ROOT,
        "%n| %,d x 100 B, median of %d | raw amqp-client | Polybus | ratio |%n",
        messages,
        runs);
    System.out.println("|---|---|---|---|");
    System.out.printf(
        Locale.ROOT,
        "| publish, confirmed, persistent | %,.0f msg/s | %,.0f msg/s | %.2f |%n",
        rp,
        pp,
        pp / rp);
    System.out.printf(
        Locale.ROOT,
        "| consume, prefetch %d, ack each | %,.0f msg/s | %,.0f msg/s | %.2f |%n",
        prefetch,
        rc,
        pc,
        pc / rc);
  }

  private static ConnectionFactory factory() throws Exception {
    ConnectionFactory cf = new ConnectionFactory();
    cf.setUri(uri.replaceFirst("^rabbitmq:", "amqp:"));
    return cf;
  }

  /** The raw program: returns {publish rate, consume rate}. */
  private static double[] raw() throws Exception {
    String exchange = "bench-raw-" + UUID.randomUUID();
    String queue = exchange + ":g";
    byte[] body = new byte[100];
    ConnectionFactory cf = factory();
    try (Connection pc = cf.newConnection("bench-raw-publish");
        Connection cc = cf.newConnection("bench-raw-consume")) {
      Channel admin = pc.createChannel();
      admin.exchangeDeclare(exchange, BuiltinExchangeType.FANOUT, true);
      admin.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
      admin.queueBind(queue, exchange, "");
      try {
        Channel ch = pc.createChannel();
        ch.confirmSelect();
        Semaphore room = new Semaphore(window);
        CountDownLatch confirmed = new CountDownLatch(messages);
        java.util.concurrent.ConcurrentSkipListSet<Long> outstanding =
            new java.util.concurrent.ConcurrentSkipListSet<>();
        ch.addConfirmListener(
            (seq, multiple) -> {
              int n = 0;
              if (multiple) {
                var head = outstanding.headSet(seq, true);
                n = head.size();
                head.clear();
              } else if (outstanding.remove(seq)) {
                n = 1;
              }
              room.release(n);
              for (int i = 0; i < n; i++) {
                confirmed.countDown();
              }
            },
            (seq, multiple) -> {
              throw new IllegalStateException("nack");
            });
        long start = System.nanoTime();
        for (int i = 0; i < messages; i++) {
          room.acquire();
          AMQP.BasicProperties props =
              new AMQP.BasicProperties.Builder()
                  .deliveryMode(2)
                  .messageId(UUID.randomUUID().toString())
                  .build();
          outstanding.add(ch.getNextPublishSeqNo());
          ch.basicPublish(exchange, "", props, body);
        }
        confirmed.await();
        double publishRate = messages / ((System.nanoTime() - start) / 1e9);

        Channel c = cc.createChannel();
        c.basicQos(prefetch);
        CountDownLatch consumed = new CountDownLatch(messages);
        long cstart = System.nanoTime();
        c.basicConsume(
            queue,
            false,
            new DefaultConsumer(c) {
              @Override
              public void handleDelivery(
                  String tag, Envelope env, AMQP.BasicProperties props, byte[] b)
                  throws java.io.IOException {
                getChannel().basicAck(env.getDeliveryTag(), false);
                consumed.countDown();
              }
            });
        consumed.await();
        double consumeRate = messages / ((System.nanoTime() - cstart) / 1e9);
        return new double[] {publishRate, consumeRate};
      } finally {
        admin.queueDelete(queue);
        admin.exchangeDelete(exchange);
      }
    }
  }

  /** The same through Polybus: returns {publish rate, consume rate}. */
  private static double[] polybus() throws Exception {
    String topic = "bench-polybus-" + UUID.randomUUID().toString().substring(0, 8);
    byte[] body = new byte[100];
    try (Polybus bus = Polybus.connect(uri)) {
      AtomicLong handled = new AtomicLong();
      CountDownLatch consumed = new CountDownLatch(messages);
      long[] cstart = new long[1];
      // The group must exist before publishing; a first member creates it and leaves.
      bus.subscribe(topic, "g", d -> {}).close();
      ArrayDeque<CompletableFuture<List<PublishReceipt>>> inFlight = new ArrayDeque<>();
      long start = System.nanoTime();
      for (int i = 0; i < messages; i += batch) {
        List<Message> b = new ArrayList<>(batch);
        for (int j = 0; j < batch && i + j < messages; j++) {
          b.add(Message.builder().payload(body).build());
        }
        while (inFlight.size() * batch >= window) {
          inFlight.poll().join();
        }
        inFlight.add(bus.publishAll(topic, b));
      }
      for (CompletableFuture<List<PublishReceipt>> f : inFlight) {
        f.join();
      }
      double publishRate = messages / ((System.nanoTime() - start) / 1e9);

      cstart[0] = System.nanoTime();
      Subscription s =
          bus.subscribe(
              topic,
              "g",
              d -> {
                handled.incrementAndGet();
                consumed.countDown();
              },
              SubscribeOptions.builder().ordering(Ordering.NONE).maxInFlight(prefetch).build());
      consumed.await();
      double consumeRate = messages / ((System.nanoTime() - cstart[0]) / 1e9);
      s.close();
      try (Connection c = factory().newConnection("bench-cleanup");
          Channel ch = c.createChannel()) {
        ch.queueDelete(topic + ":g");
        ch.exchangeDelete(topic);
      }
      return new double[] {publishRate, consumeRate};
    }
  }
}
