package io.polybus.nativelog;

import io.polybus.Health;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PolybusOptions;
import io.polybus.StartFrom;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * A child JVM whose segment the parent truncates: {@code <uri> <mode> <records>}. Publishes {@code
 * records} records to topic {@code t} (in {@code poll} mode also reads the first few), prints
 * {@code ready}, waits for a line on stdin (the parent truncates the segment meanwhile), then, by
 * mode: {@code publish} publishes, checks health and publishes again, {@code health} checks health
 * before it publishes, {@code poll} polls on. It prints what each step threw and the health, then
 * {@code done}; a JVM that dies of the truncation prints neither.
 */
public final class TruncationChild {
  private TruncationChild() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String mode = args[1];
    int records = Integer.parseInt(args[2]);
    try (Backend b = new NativeLogBackendProvider().open(PolybusOptions.parse(uri))) {
      for (int i = 0; i < records; i++) {
        b.publish("t", List.of(Message.of("record " + i))).join();
      }
      BackendConsumer c = null;
      if (mode.equals("poll")) {
        c =
            b.subscribe(
                new ConsumerSpec(
                    "t", "g", Ordering.NONE, StartFrom.EARLIEST, Duration.ofSeconds(30), 10));
        // Warms the read path up as the publishes warmed the append path, reading only the first
        // records, so the
        // rest lies past the truncation.
        for (int i = 0; i < records / 100; i++) {
          for (InboundRecord r : c.poll(1, Duration.ofSeconds(1))) {
            r.ack();
          }
        }
      }
      System.out.println("ready");
      System.out.flush();
      new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      switch (mode) {
        case "publish" -> {
          publish(b);
          health(b);
          publish(b);
        }
        case "health" -> {
          health(b);
          publish(b);
        }
        case "poll" -> {
          try {
            for (int i = 0; i < 100; i++) {
              c.poll(100, Duration.ofMillis(10)).forEach(InboundRecord::ack);
            }
            System.out.println("poll returned");
          } catch (Throwable e) {
            System.out.println("poll threw " + e);
          }
          c.close();
        }
        default -> throw new IllegalArgumentException(mode);
      }
      health(b);
    }
    System.out.println("done");
  }

  private static void publish(Backend b) {
    try {
      b.publish("t", List.of(Message.of("after"))).join();
      System.out.println("publish returned");
    } catch (CompletionException e) {
      System.out.println("publish threw " + e.getCause());
    } catch (Throwable e) {
      System.out.println("publish threw " + e);
    }
  }

  private static void health(Backend b) {
    Health h = b.health();
    System.out.println("health " + (h.up() ? "up" : "down") + ": " + h.detail());
  }
}
