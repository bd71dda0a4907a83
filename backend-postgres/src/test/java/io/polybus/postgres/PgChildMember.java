package io.polybus.postgres;

import io.polybus.Polybus;
import io.polybus.SubscribeOptions;
import java.time.Duration;

/**
 * The child JVM of {@link PostgresMemberKilledTest}: joins group {@code args[2]} of topic {@code
 * args[1]} on {@code args[0]} with a 2 s ackTimeout and a handler that never finishes, so it holds
 * up to 20 leased deliveries until it is killed. Not a test.
 */
public final class PgChildMember {
  private PgChildMember() {}

  public static void main(String[] args) throws Exception {
    Polybus bus = Polybus.connect(args[0]);
    bus.subscribe(
        args[1],
        args[2],
        d -> Thread.sleep(Long.MAX_VALUE),
        SubscribeOptions.builder()
            .ackTimeout(Duration.ofSeconds(2))
            .maxInFlight(20)
            .concurrency(2)
            .build());
    System.out.println("subscribed");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
