package io.polybus.nativelog;

import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.Polybus;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** Child JVMs for the multi-process and crash tests. Each runs until done or killed. */
public final class Children {
  private Children() {}

  /**
   * {@code publish <uri> <topic> <prefix> <count>}: publishes {@code <prefix>:<i>} keyed {@code
   * <prefix>-k<i % 10>}, one at a time, printing {@code confirmed <i>} after each publish was
   * confirmed.
   */
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "publish":
        publish(args[1], args[2], args[3], Integer.parseInt(args[4]));
        break;
      case "count":
        count(args[1], args[2], args[3], Integer.parseInt(args[4]));
        break;
      case "consume":
        consume(args[1], args[2], args[3], Path.of(args[4]));
        break;
      default:
        throw new IllegalArgumentException(args[0]);
    }
  }

  private static void publish(String uri, String topic, String prefix, int count) {
    try (Polybus bus = Polybus.connect(uri)) {
      for (int i = 0; i < count; i++) {
        bus.publishAndWait(
            topic,
            Message.builder().key(prefix + "-k" + (i % 10)).payload(prefix + ":" + i).build());
        System.out.println("confirmed " + i);
        System.out.flush();
      }
    }
  }

  /**
   * {@code count <uri> <topic> <group> <seconds>}: prints how many messages the group handled,
   * every second.
   */
  private static void count(String uri, String topic, String group, int seconds) throws Exception {
    java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
    try (Polybus bus = Polybus.connect(uri)) {
      bus.subscribe(
          topic,
          group,
          d -> n.incrementAndGet(),
          SubscribeOptions.builder().startFrom(StartFrom.EARLIEST).build());
      for (int i = 0; i < seconds; i++) {
        Thread.sleep(1000);
        System.out.println("handled " + n.get());
      }
    }
  }

  /**
   * {@code consume <uri> <topic> <group> <file>}: appends {@code <key> <payload>} per handled
   * message to the file (flushed before the ack), until killed.
   */
  private static void consume(String uri, String topic, String group, Path out) throws Exception {
    try (Polybus bus = Polybus.connect(uri);
        PrintStream file =
            new PrintStream(
                new FileOutputStream(out.toFile(), true), false, StandardCharsets.UTF_8)) {
      bus.subscribe(
          topic,
          group,
          d -> {
            synchronized (file) {
              file.println(d.message().key() + " " + d.message().payloadAsString());
              file.flush();
            }
          },
          SubscribeOptions.builder()
              .ordering(Ordering.KEY)
              .concurrency(2)
              .startFrom(StartFrom.EARLIEST)
              .build());
      Files.writeString(out.resolveSibling(out.getFileName() + ".ready"), "ready");
      new CountDownLatch(1).await();
    }
  }
}
