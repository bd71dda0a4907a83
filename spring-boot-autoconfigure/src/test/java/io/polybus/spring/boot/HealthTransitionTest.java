/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.spring.boot.autoconfigure.PolybusActuatorAutoConfiguration;
import io.polybus.spring.boot.autoconfigure.PolybusAutoConfiguration;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * The health indicator follows the broker: UP, DOWN when the broker stops answering, and UP again
 * when it returns, each answer within the timeout. The broker is the shared Redis at 127.0.0.1:6379
 * behind a TCP proxy of this test (the backend's own timeout, 3 s, is longer than the health
 * timeout, so the bound shown is the indicator's), so "stopping the broker" disturbs nobody else:
 * the proxy either forwards, or holds connections without answering (a hung broker, the worst case
 * for a health endpoint), or refuses them.
 */
class HealthTransitionTest {
  private static final Duration TIMEOUT = Duration.ofMillis(800);

  @Test
  void healthGoesDownWhenTheBrokerStopsAndUpWhenItReturnsNeverWaitingPastTheTimeout()
      throws Exception {
    try (Proxy proxy = new Proxy(6379)) {
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  PolybusAutoConfiguration.class,
                  PolybusActuatorAutoConfiguration.class,
                  HealthContributorAutoConfiguration.class))
          .withPropertyValues(
              "polybus.uri=redis://127.0.0.1:" + proxy.port() + "?timeout=3s",
              "polybus.health.timeout=" + TIMEOUT.toMillis() + "ms")
          .run(
              c -> {
                assertThat(c).hasNotFailed();
                HealthIndicator health = c.getBean("polybusHealthIndicator", HealthIndicator.class);
                assertThat(timed(health).status).isEqualTo(Status.UP);

                proxy.hang();
                Timed down = timed(health);
                assertThat(down.status).isEqualTo(Status.DOWN);
                assertThat(down.took).isLessThan(TIMEOUT.plusMillis(400));
                System.out.println(
                    "health with a hung broker: DOWN in " + down.took.toMillis() + " ms");

                proxy.refuse();
                Timed refused = awaitStatus(health, Status.DOWN);
                System.out.println(
                    "health with a refusing broker: DOWN in " + refused.took.toMillis() + " ms");

                proxy.forward();
                long t0 = System.nanoTime();
                Timed up = awaitStatus(health, Status.UP);
                System.out.println(
                    "health after the broker returned: UP after "
                        + Duration.ofNanos(System.nanoTime() - t0).toMillis()
                        + " ms (last check "
                        + up.took.toMillis()
                        + " ms)");
              });
    }
  }

  private record Timed(Status status, Duration took) {}

  private static Timed timed(HealthIndicator h) {
    long t0 = System.nanoTime();
    Status s = h.health().getStatus();
    return new Timed(s, Duration.ofNanos(System.nanoTime() - t0));
  }

  private static Timed awaitStatus(HealthIndicator h, Status wanted) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      Timed t = timed(h);
      assertThat(t.took).isLessThan(TIMEOUT.plusMillis(400));
      if (t.status.equals(wanted)) {
        return t;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("health still " + t.status + ", wanted " + wanted);
      }
      Thread.sleep(100);
    }
  }

  /** A TCP proxy to 127.0.0.1:{@code target} that can forward, hang or refuse. */
  static final class Proxy implements AutoCloseable {
    private enum Mode {
      FORWARD,
      HANG,
      REFUSE
    }

    private final int target;
    private final ServerSocket server;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private volatile Mode mode = Mode.FORWARD;

    Proxy(int target) throws IOException {
      this.target = target;
      this.server = new ServerSocket();
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      Thread t = new Thread(this::accept, "proxy-accept");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    void forward() {
      mode = Mode.FORWARD;
    }

    /** Live connections stall; new ones are accepted and never answered. */
    void hang() {
      mode = Mode.HANG;
    }

    /** Live connections are cut; new ones are closed at once. */
    void refuse() {
      mode = Mode.REFUSE;
      for (Socket s : open) {
        closeQuietly(s);
      }
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          open.add(client);
          if (mode == Mode.REFUSE) {
            closeQuietly(client);
            continue;
          }
          if (mode == Mode.HANG) {
            continue; // held open, never read
          }
          Socket upstream = new Socket("127.0.0.1", target);
          open.add(upstream);
          pump(client, upstream);
          pump(upstream, client);
        } catch (IOException e) {
          // closed, or one connection failed: keep accepting
        }
      }
    }

    private void pump(Socket from, Socket to) {
      Thread t =
          new Thread(
              () -> {
                byte[] buf = new byte[8192];
                try (InputStream in = from.getInputStream();
                    OutputStream out = to.getOutputStream()) {
                  int n;
                  while ((n = in.read(buf)) >= 0) {
                    while (mode == Mode.HANG) {
                      Thread.sleep(20); // a hung broker: bytes neither pass nor fail
                    }
                    if (mode == Mode.REFUSE) {
                      break;
                    }
                    out.write(buf, 0, n);
                  }
                } catch (IOException | InterruptedException e) {
                  // connection ended
                } finally {
                  closeQuietly(from);
                  closeQuietly(to);
                }
              },
              "proxy-pump");
      t.setDaemon(true);
      t.start();
    }

    private static void closeQuietly(Socket s) {
      try {
        s.close();
      } catch (IOException ignored) {
        // already closed
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        closeQuietly(s);
      }
    }
  }
}
