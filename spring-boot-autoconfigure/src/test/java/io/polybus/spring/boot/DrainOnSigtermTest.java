/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.JsonCodec;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.spring.boot.drain.DrainApplication;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM while messages flow: the application (a child process on a {@code log:} directory shared
 * with this test) stops its listeners first in Spring's graceful shutdown, lets running handlers
 * finish and gives back the rest; a second member started afterwards handles what is left. Every
 * confirmed message is handled, and none twice ({@code log:} does not declare {@code
 * mayDuplicate}).
 */
class DrainOnSigtermTest {
  @TempDir Path dir;

  @Test
  void sigtermDrainsRunningHandlersAndLosesOrRepeatsNoConfirmedMessage() throws Exception {
    String uri = "log:" + dir.resolve("log");
    Path handledByChild = dir.resolve("drain.out");
    Files.createFile(handledByChild);
    try (Polybus bus = Polybus.connect(uri)) {
      assertThat(bus.capabilities().mayDuplicate()).isFalse();
      // Create the group at the start of the topic before the child joins, so nothing is skipped.
      bus.subscribe(
              "drain", "work", d -> d.retry(Duration.ZERO), SubscribeOptions.builder().build())
          .close(Duration.ZERO);

      Process child = startChild(uri, handledByChild);
      try {
        Set<String> confirmed = ConcurrentHashMap.newKeySet();
        AtomicBoolean publishing = new AtomicBoolean(true);
        JsonCodec<DrainApplication.Work> codec = JsonCodec.of(DrainApplication.Work.class);
        CompletableFuture<Void> publisher =
            CompletableFuture.runAsync(
                () -> {
                  for (int n = 0; publishing.get(); n++) {
                    PublishReceipt r =
                        bus.publishAndWait(
                            "drain",
                            Message.builder()
                                .key("k" + (n % 16))
                                .value(codec, new DrainApplication.Work(n))
                                .build());
                    confirmed.add(r.messageId());
                    if (n % 20 == 0) {
                      sleep(5);
                    }
                  }
                });
        // Let messages flow for a while, then SIGTERM (Process.destroy on Linux) while they still
        // do.
        Thread.sleep(1500);
        long t0 = System.nanoTime();
        child.destroy();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long shutdownMillis = Duration.ofNanos(System.nanoTime() - t0).toMillis();
        publishing.set(false);
        publisher.get(10, TimeUnit.SECONDS);

        List<String> childIds = Files.readAllLines(handledByChild);
        // The second member handles what the child gave back or never fetched.
        Map<String, Integer> handled = new ConcurrentHashMap<>();
        for (String id : childIds) {
          handled.merge(id, 1, Integer::sum);
        }
        Subscription rest =
            bus.subscribe(
                "drain",
                "work",
                d -> {
                  handled.merge(d.message().id(), 1, Integer::sum);
                },
                SubscribeOptions.builder().concurrency(4).build());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!handled.keySet().containsAll(confirmed) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        Thread.sleep(200); // a duplicate would arrive about now
        rest.close();

        Map<String, Integer> twice = new HashMap<>();
        handled.forEach(
            (id, n) -> {
              if (n > 1) {
                twice.put(id, n);
              }
            });
        List<String> lost = new ArrayList<>(confirmed);
        lost.removeAll(handled.keySet());
        System.out.println(
            "SIGTERM drain: exit "
                + child.exitValue()
                + " after "
                + shutdownMillis
                + " ms; confirmed "
                + confirmed.size()
                + ", handled by the child "
                + childIds.size()
                + ", by the second member "
                + (handled.size() - new java.util.HashSet<>(childIds).size())
                + ", lost "
                + lost.size()
                + ", twice "
                + twice.size());
        assertThat(childIds.size())
            .as("the child handled messages before SIGTERM")
            .isGreaterThan(10);
        assertThat(lost).as("confirmed but never handled").isEmpty();
        assertThat(twice).as("handled twice").isEmpty();
        assertThat(shutdownMillis).isLessThan(10_000);
      } finally {
        child.destroyForcibly();
      }
    }
  }

  private static Process startChild(String uri, Path out) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                DrainApplication.class.getName(),
                "--polybus.uri=" + uri,
                "--drain.out=" + out,
                "--spring.lifecycle.timeout-per-shutdown-phase=10s",
                "--spring.main.banner-mode=off",
                // No web server keeps this JVM up: Boot's keep-alive thread does, until SIGTERM.
                "--spring.main.keep-alive=true",
                // Not the test resources' application.properties, which configure the other app's
                // listeners.
                "--spring.config.name=drain-child",
                "--logging.level.root=WARN",
                "--logging.level.io.polybus=INFO")
            .redirectErrorStream(true)
            .start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                String line;
                while ((line = r.readLine()) != null) {
                  System.out.println("[child] " + line);
                  if (line.equals("READY")) {
                    ready.complete(null);
                  }
                }
              } catch (Exception e) {
                // child ended
              }
              ready.completeExceptionally(new AssertionError("child ended before READY"));
            },
            "child-output");
    t.setDaemon(true);
    t.start();
    ready.get(60, TimeUnit.SECONDS);
    return p;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
