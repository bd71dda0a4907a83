/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.samples.boot;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.spring.boot.PolybusTemplate;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The order pipeline on Spring Boot: publishes {@code --orders} orders (100 unless given), one of
 * them poison, waits until email, inventory and analytics handled theirs and the poison order's
 * dead letter was read back, prints the summary and exits (0 when the pipeline completed as it
 * should, 1 otherwise).
 *
 * <pre>
 * mvn -q -f samples-spring-boot/pom.xml spring-boot:run -Dspring-boot.run.arguments="--polybus.uri=mem: --orders=500"
 * </pre>
 */
@SpringBootApplication
public class OrderPipelineApplication implements ApplicationRunner, ExitCodeGenerator {
  /** The SKU the inventory service does not know. */
  public static final String POISON_SKU = "SKU-DOES-NOT-EXIST";

  private static final List<String> GROUPS = List.of("email", "inventory", "analytics");
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final PolybusTemplate template;
  private final OrderServices services;
  private final MeterRegistry meters;
  private final Polybus bus;
  private final PrintStream out = System.out;
  private int exitCode;

  OrderPipelineApplication(
      PolybusTemplate template, OrderServices services, MeterRegistry meters, Polybus bus) {
    this.template = template;
    this.services = services;
    this.meters = meters;
    this.bus = bus;
  }

  /** A registry for the summary's figures when the application has none (no actuator here). */
  @Bean
  @ConditionalOnMissingBean
  static MeterRegistry meterRegistry() {
    return new SimpleMeterRegistry();
  }

  @Override
  public void run(ApplicationArguments args) throws Exception {
    int orders =
        args.containsOption("orders")
            ? Integer.parseInt(args.getOptionValues("orders").get(0))
            : 100;
    String runId = UUID.randomUUID().toString();
    services.startRun(runId);
    out.println("order pipeline on " + bus.options().redacted() + ": " + orders + " orders");
    long t0 = System.nanoTime();
    int poisonIndex = orders / 2;
    List<Message> batch = new ArrayList<>();
    for (int i = 0; i < orders; i++) {
      String customer = "customer-" + (i % 20);
      OrderCreated order =
          new OrderCreated(
              "order-" + i,
              customer,
              i == poisonIndex ? POISON_SKU : "SKU-000" + (1 + i % 8),
              1 + i % 3,
              1000L + i);
      batch.add(
          template
              .message(customer, order)
              .newBuilder()
              .header(OrderServices.RUN_HEADER, runId)
              .build());
    }
    bus.publishAllAndWait("orders", batch);
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!(services.processed("email") == orders
            && services.processed("analytics") == orders
            && services.processed("inventory") == orders - 1
            && services.deadLetter() != null)
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    long elapsed = Duration.ofNanos(System.nanoTime() - t0).toMillis();
    Thread.sleep(200); // catch a late duplicate or a second dead letter
    boolean ok =
        services.processed("email") == orders
            && services.processed("analytics") == orders
            && services.processed("inventory") == orders - 1
            && services.deadLetter() != null;
    Message dl = services.deadLetter();
    if (dl != null) {
      out.println(
          "dead letter on orders.inventory.dlq: order order-"
              + poisonIndex
              + " (SKU "
              + POISON_SKU
              + ")");
      out.println(OrderServices.describe(dl));
    }
    out.println("summary");
    out.println("  published       " + orders);
    out.println(
        "  processed       email "
            + services.processed("email")
            + ", inventory "
            + services.processed("inventory")
            + ", analytics "
            + services.processed("analytics"));
    out.println(
        "  retried         "
            + (int) count("polybus.retries", "inventory")
            + " ("
            + services.failedAttempts()
            + " failed attempts)");
    out.println("  dead-lettered   " + (dl == null ? 0 : 1));
    if (services.stale() > 0) {
      out.println(
          "  ignored         " + services.stale() + " messages left over from earlier runs");
    }
    out.println("  elapsed         " + elapsed + " ms");
    out.println("metrics (polybus-micrometer), per consumer group");
    out.println(
        String.format("  %-10s %9s %8s %14s", "group", "consumed", "retried", "dead-lettered"));
    for (String g : GROUPS) {
      out.println(
          String.format(
              "  %-10s %9d %8d %14d",
              g,
              (long) count("messaging.client.consumed.messages", g),
              (long) count("polybus.retries", g),
              (long) count("polybus.dead.letters", g)));
    }
    out.println(ok ? "OK" : "FAILED: the pipeline did not complete within " + TIMEOUT);
    exitCode = ok ? 0 : 1;
  }

  private double count(String name, String group) {
    double sum = 0;
    for (Counter c :
        meters
            .find(name)
            .tag("messaging.destination.name", "orders")
            .tag("messaging.consumer.group.name", group)
            .counters()) {
      sum += c.count();
    }
    return sum;
  }

  @Override
  public int getExitCode() {
    return exitCode;
  }

  public static void main(String[] args) {
    System.exit(
        SpringApplication.exit(SpringApplication.run(OrderPipelineApplication.class, args)));
  }
}
