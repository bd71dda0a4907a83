/*
 * Copyright 2026 The Polybus Authors. Licensed under the Apache License, Version 2.0.
 */
package io.polybus.spring.boot.drain;

import io.polybus.Delivery;
import io.polybus.spring.boot.PolybusListener;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * The application {@code DrainOnSigtermTest} runs in a child process: a slow listener that appends
 * the id of every message it handled to {@code drain.out}, and prints READY once the context is up.
 */
@SpringBootApplication
public class DrainApplication {
  /** Appends each handled id, one line per message, written through before the handler returns. */
  public static class SlowListener {
    private final OutputStream out;

    SlowListener(Path file) throws IOException {
      this.out = new FileOutputStream(file.toFile(), true);
    }

    @PolybusListener(topic = "drain", group = "work", concurrency = "4")
    void handle(Work work, Delivery delivery) throws Exception {
      Thread.sleep(50); // long enough that SIGTERM finds handlers running
      synchronized (out) {
        out.write((delivery.message().id() + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    }
  }

  /** The payload. */
  public record Work(int n) {}

  @Bean
  SlowListener slowListener(org.springframework.core.env.Environment env) throws IOException {
    return new SlowListener(Path.of(env.getRequiredProperty("drain.out")));
  }

  public static void main(String[] args) {
    SpringApplication.run(DrainApplication.class, args);
    System.out.println("READY");
  }
}
