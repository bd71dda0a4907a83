package io.polybus.tck.selftest;

import io.polybus.Capabilities;
import io.polybus.ConfigurationException;
import io.polybus.ConsumerLag;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusOptions;
import io.polybus.PublishReceipt;
import io.polybus.RequestHeaders;
import io.polybus.StartFrom;
import io.polybus.TraceHeaders;
import io.polybus.inmemory.InMemoryBackendProvider;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.BackendProvider;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import io.polybus.spi.Messages;
import io.polybus.spi.Parameters;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Serves {@code broken:<flaw>}: the real in-memory backend, wrapped at the SPI level with one
 * deliberate defect (see {@link Flaw}). The TCK must fail against every flaw but {@code none}.
 * Takes no host, user or parameter, and rejects unknown ones like a real backend, so the bad-input
 * cases of the TCK apply to it too.
 *
 * <p>Each bus gets its own counters, so a flaw strikes at the same deliveries in every run.
 */
public final class BrokenBackendProvider implements BackendProvider {
  @Override
  public Set<String> schemes() {
    return Set.of("broken");
  }

  @Override
  public String description() {
    return "the in-memory backend with one deliberate flaw, for the TCK self-test";
  }

  @Override
  public Backend open(PolybusOptions options) {
    if (!options.hosts().isEmpty() || options.user() != null) {
      throw new ConfigurationException(
          "the broken backend takes no host or user: '" + options.redacted() + "'");
    }
    Parameters.of(options).requireAllRead();
    Flaw flaw = Flaw.of(options.path());
    return new BrokenBackend(
        new InMemoryBackendProvider().open(PolybusOptions.parse("mem:")), flaw);
  }

  /** The wrapper of one mem backend. Thread-safe as the backend it wraps. */
  static final class BrokenBackend implements Backend {
    private final Backend mem;
    private final Flaw flaw;
    private final AtomicLong deliveries = new AtomicLong();
    private final ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "broken-backend-timer");
              t.setDaemon(true);
              return t;
            });

    BrokenBackend(Backend mem, Flaw flaw) {
      this.mem = mem;
      this.flaw = flaw;
    }

    @Override
    public Capabilities capabilities() {
      Capabilities c = mem.capabilities();
      // Declared so that, under Ordering.NONE, the runtime hands retries to release() and trusts
      // deliveryCount().
      return flaw == Flaw.IGNORE_MAX_ATTEMPTS ? c.newBuilder().nativeDelayedRetry(true).build() : c;
    }

    /** {@link Flaw#CROSSED_REPLIES}: the correlation id of the latest reply published. */
    private final java.util.concurrent.atomic.AtomicReference<String> lastCorrelation =
        new java.util.concurrent.atomic.AtomicReference<>();

    @Override
    public CompletableFuture<List<PublishReceipt>> publish(String topic, List<Message> messages) {
      if (flaw == Flaw.NARROW_LIMITS) {
        for (Message m : messages) {
          if (utf8(m.id()) > 100 || m.headers().keySet().stream().anyMatch(n -> utf8(n) > 100)) {
            return CompletableFuture.failedFuture(
                new PayloadTooLargeException(
                    "the broken backend takes ids and"
                        + " header names of at most 100 bytes: "
                        + m));
          }
        }
      }
      if (flaw == Flaw.CROSSED_REPLIES) {
        List<Message> crossed = new java.util.ArrayList<>(messages.size());
        for (Message m : messages) {
          String own = m.header(RequestHeaders.CORRELATION_ID);
          if (own == null || m.header(RequestHeaders.REPLY_TO) != null) {
            crossed.add(m); // not a reply
            continue;
          }
          String previous = lastCorrelation.getAndSet(own);
          crossed.add(
              Messages.withHeaders(
                  m,
                  java.util.Map.of(
                      RequestHeaders.CORRELATION_ID, previous == null ? "crossed" : previous)));
        }
        return mem.publish(topic, crossed);
      }
      if (flaw == Flaw.DELIVERS_EARLY) {
        List<Message> early = new java.util.ArrayList<>(messages.size());
        for (Message m : messages) {
          early.add(Messages.withoutHeaders(m, List.of(Message.DELIVER_AT_HEADER)));
        }
        return mem.publish(topic, early);
      }
      if (flaw == Flaw.DELAY_HOLDS_KEY) {
        return mem.publish(topic, heldBehindDelayed(topic, messages));
      }
      if (flaw == Flaw.DROP_TRACE_HEADERS) {
        List<Message> stripped = new java.util.ArrayList<>(messages.size());
        for (Message m : messages) {
          stripped.add(Messages.withoutHeaders(m, TraceHeaders.ALL));
        }
        return mem.publish(topic, stripped);
      }
      return mem.publish(topic, messages);
    }

    /** {@link Flaw#DELAY_HOLDS_KEY}: per topic and key, when its latest delayed message is due. */
    private final java.util.concurrent.ConcurrentHashMap<String, Long> heldUntil =
        new java.util.concurrent.ConcurrentHashMap<>();

    private List<Message> heldBehindDelayed(String topic, List<Message> messages) {
      long now = System.currentTimeMillis();
      List<Message> out = new java.util.ArrayList<>(messages.size());
      for (Message m : messages) {
        if (m.key() == null) {
          out.add(m);
          continue;
        }
        String k = topic + "\u0000" + m.key();
        long delay = Messages.delayMillis(m, now);
        if (delay > 0) {
          heldUntil.merge(k, now + delay, Math::max);
          out.add(m);
          continue;
        }
        Long until = heldUntil.get(k);
        out.add(
            until != null && until > now
                ? Messages.withHeaders(
                    m, java.util.Map.of(Message.DELIVER_AT_HEADER, Long.toString(until)))
                : m);
      }
      return out;
    }

    @Override
    public ConsumerLag lag(String topic, String group) {
      ConsumerLag l = mem.lag(topic, group);
      if (flaw != Flaw.MISCOUNT_LAG || l.total() == 0) {
        return l;
      }
      // Counts the end offset itself, one too many: the classic "tail minus committed" slip.
      return ConsumerLag.of(
          topic, group, l.total() + 1, l.oldestAge().orElse(null), l.accuracy(), l.measuredAt());
    }

    private static int utf8(String s) {
      return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    @Override
    public void ensureGroup(String topic, String group, StartFrom startFrom) {
      mem.ensureGroup(
          topic, group, flaw == Flaw.REPLAY_FROM_EARLIEST ? earliestFor(startFrom) : startFrom);
    }

    private static StartFrom earliestFor(StartFrom startFrom) {
      return startFrom.kind() == StartFrom.Kind.TIMESTAMP
              || startFrom.kind() == StartFrom.Kind.OFFSET
          ? StartFrom.EARLIEST
          : startFrom;
    }

    @Override
    public BackendConsumer subscribe(ConsumerSpec spec) {
      ConsumerSpec s =
          flaw != Flaw.REPLAY_FROM_EARLIEST
              ? spec
              : new ConsumerSpec(
                  spec.topic(),
                  spec.group(),
                  spec.ordering(),
                  earliestFor(spec.startFrom()),
                  spec.ackTimeout(),
                  spec.maxInFlight());
      return new BrokenConsumer(mem.subscribe(s));
    }

    @Override
    public CompletableFuture<Void> deadLetter(
        InboundRecord record, String deadLetterTopic, Message deadLetter) {
      InboundRecord inner = record instanceof BrokenRecord ? ((BrokenRecord) record).inner : record;
      Message sent =
          flaw == Flaw.DLQ_LOSES_HEADERS
              ? Messages.withoutHeaders(deadLetter, deadLetter.headers().keySet())
              : deadLetter;
      return mem.deadLetter(inner, deadLetterTopic, sent);
    }

    @Override
    public Health health() {
      return mem.health();
    }

    @Override
    public void close() {
      timer.shutdownNow();
      mem.close();
    }

    /** One member; {@link #poll} is called by one thread at a time, as the SPI promises. */
    final class BrokenConsumer implements BackendConsumer {
      private final BackendConsumer inner;

      /** Copies of earlier deliveries, handed out again by {@link Flaw#DUPLICATE}. */
      private final ArrayDeque<InboundRecord> copies = new ArrayDeque<>();

      BrokenConsumer(BackendConsumer inner) {
        this.inner = inner;
      }

      @Override
      public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
        List<InboundRecord> out = new ArrayList<>();
        while (max > 0 && out.size() < max && !copies.isEmpty()) {
          out.add(copies.poll());
        }
        int ask = flaw == Flaw.EXCEED_IN_FLIGHT && max > 0 ? 512 : max - out.size();
        AtomicBoolean batchFailed = new AtomicBoolean();
        if (ask > 0) {
          for (InboundRecord r : inner.poll(ask, out.isEmpty() ? timeout : Duration.ZERO)) {
            long n = deliveries.incrementAndGet();
            if (flaw == Flaw.DROP && n % 100 == 0) {
              r.ack(); // gone: the group never sees it again, and no handler saw it
              continue;
            }
            if (flaw == Flaw.DUPLICATE && n % 10 == 0) {
              copies.add(new BrokenRecord(r, true, batchFailed));
            }
            out.add(new BrokenRecord(r, false, batchFailed));
          }
        }
        if (flaw == Flaw.REORDER) {
          for (int i = 0; i + 1 < out.size(); i++) {
            String key = out.get(i).message().key();
            if (key != null && key.equals(out.get(i + 1).message().key())) {
              InboundRecord first = out.get(i);
              out.set(i, out.get(i + 1));
              out.set(i + 1, first);
              i++;
            }
          }
        }
        return out;
      }

      @Override
      public void wakeup() {
        inner.wakeup();
      }

      @Override
      public void close() {
        copies.clear();
        inner.close();
      }
    }

    /** One delivery; a {@code copy} is a duplicate whose settling does nothing. */
    final class BrokenRecord implements InboundRecord {
      final InboundRecord inner;
      private final boolean copy;

      /** Shared by the records of one poll: set once one of them was given back for a retry. */
      private final AtomicBoolean batchFailed;

      BrokenRecord(InboundRecord inner, boolean copy, AtomicBoolean batchFailed) {
        this.inner = Objects.requireNonNull(inner);
        this.copy = copy;
        this.batchFailed = batchFailed;
      }

      @Override
      public Message message() {
        return inner.message();
      }

      @Override
      public int deliveryCount() {
        return flaw == Flaw.IGNORE_MAX_ATTEMPTS ? 1 : inner.deliveryCount();
      }

      @Override
      public void ack() {
        if (copy) {
          return;
        }
        if (flaw == Flaw.REDELIVER_ACKED) {
          try {
            timer.schedule(() -> inner.release(Duration.ZERO), 50, TimeUnit.MILLISECONDS);
          } catch (java.util.concurrent.RejectedExecutionException closed) {
            // the backend closed: nothing left to break
          }
          return;
        }
        if (flaw == Flaw.REDELIVER_NEIGHBOURS && batchFailed.get()) {
          inner.release(Duration.ZERO);
          return;
        }
        inner.ack();
      }

      @Override
      public void release(Duration delay) {
        batchFailed.set(true);
        if (!copy) {
          inner.release(delay);
        }
      }

      @Override
      public void recordAttempts(int attempts) {
        batchFailed.set(true);
        if (!copy) {
          inner.recordAttempts(attempts);
        }
      }

      @Override
      public void markNotHandled() {
        if (!copy && flaw != Flaw.COUNT_UNHANDLED) {
          inner.markNotHandled();
        }
      }
    }
  }
}
