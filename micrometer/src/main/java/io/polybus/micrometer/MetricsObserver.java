package io.polybus.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.polybus.CircuitBreaker;
import io.polybus.ConsumerLag;
import io.polybus.Delivery;
import io.polybus.Instrumentation;
import io.polybus.Message;
import io.polybus.Polybus;
import io.polybus.PublishReceipt;
import io.polybus.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The observer {@link PolybusMetrics} attaches to one bus. Meters are looked up once per topic (and
 * group) and kept, so the per-message cost is a map lookup and an increment. Thread-safe.
 */
final class MetricsObserver implements Instrumentation.Observer {
  private static final System.Logger LOG = System.getLogger("io.polybus.micrometer");

  static final String SYSTEM = "messaging.system";
  static final String DESTINATION = "messaging.destination.name";
  static final String OPERATION = "messaging.operation.name";
  static final String GROUP = "messaging.consumer.group.name";
  static final String ERROR_TYPE = "error.type";
  static final String OUTCOME = "polybus.outcome";
  static final String DEAD_LETTER_TOPIC = "polybus.dead_letter.topic";

  private static final Instrumentation.Scope NO_SCOPE = () -> {};
  private static final Instrumentation.Outcome[] OUTCOMES = Instrumentation.Outcome.values();

  private final MeterRegistry registry;
  private final Polybus bus;
  private final String system;
  private final long refreshNanos;
  private final long staleNanos;
  private final Map<String, TopicMeters> topics = new ConcurrentHashMap<>();
  private final Map<String, Map<String, GroupMeters>> groups = new ConcurrentHashMap<>();
  private final Map<List<String>, Watched> watched = new ConcurrentHashMap<>();
  private final boolean lagReported;
  private volatile ScheduledExecutorService refresher;

  MetricsObserver(MeterRegistry registry, Polybus bus, Duration refresh, Duration staleAfter) {
    this.registry = registry;
    this.bus = bus;
    this.system = Instrumentation.messagingSystem(bus.options().scheme());
    this.refreshNanos = refresh.toNanos();
    this.staleNanos = staleAfter.toNanos();
    this.lagReported = bus.capabilities().lagAccuracy() != ConsumerLag.Accuracy.NONE;
  }

  /** The counter of messages {@code name} with {@code tags}, registered once and then found. */
  private Counter counter(String name, String description, Tags tags) {
    return Counter.builder(name)
        .description(description)
        .baseUnit("{message}")
        .tags(tags)
        .register(registry);
  }

  private static String errorType(Throwable t) {
    return t.getClass().getName();
  }

  // ------------------------------------------------------------------ publish

  /** The meters of publishing to one topic without failure. */
  private final class TopicMeters {
    final String topic;
    final Counter sent;
    final Timer duration;

    TopicMeters(String topic) {
      this.topic = topic;
      Tags tags = Tags.of(SYSTEM, system, DESTINATION, topic, OPERATION, "send");
      this.sent = counter(PolybusMetrics.SENT, "Messages published", tags);
      this.duration =
          Timer.builder(PolybusMetrics.OPERATION_DURATION)
              .description("Publish calls, until the broker confirmed")
              .tags(tags)
              .register(registry);
    }

    void failed(int messages, long nanos, Throwable t) {
      Tags tags =
          Tags.of(SYSTEM, system, DESTINATION, topic, OPERATION, "send", ERROR_TYPE, errorType(t));
      Counter.builder(PolybusMetrics.SENT).tags(tags).register(registry).increment(messages);
      Timer.builder(PolybusMetrics.OPERATION_DURATION)
          .tags(tags)
          .register(registry)
          .record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  private TopicMeters topic(String topic) {
    TopicMeters t = topics.get(topic);
    return t != null ? t : topics.computeIfAbsent(topic, TopicMeters::new);
  }

  @Override
  public Instrumentation.Sending publishing(String topic, List<Message> messages) {
    TopicMeters t = topic(topic);
    long start = System.nanoTime();
    return new Instrumentation.Sending() {
      @Override
      public List<Message> messages() {
        return messages;
      }

      @Override
      public void completed(List<PublishReceipt> receipts, Throwable failure) {
        long took = System.nanoTime() - start;
        if (failure == null) {
          t.sent.increment(messages.size());
          t.duration.record(took, TimeUnit.NANOSECONDS);
        } else {
          t.failed(messages.size(), took, failure);
        }
      }
    };
  }

  // ------------------------------------------------------------------ consume

  /** The meters of one group on one topic. */
  private final class GroupMeters {
    final String topic;
    final String group;
    final Counter consumed;
    final Counter retries;
    final Counter deadLetters;
    final Timer[] process = new Timer[OUTCOMES.length];

    GroupMeters(String topic, String group) {
      this.topic = topic;
      this.group = group;
      Tags tags = Tags.of(SYSTEM, system, DESTINATION, topic, GROUP, group);
      consumed = counter(PolybusMetrics.CONSUMED, "Delivery attempts handed to a handler", tags);
      retries = counter(PolybusMetrics.RETRIES, "Retries scheduled", tags);
      deadLetters =
          counter(
              PolybusMetrics.DEAD_LETTERS, "Dead letters confirmed by the dead-letter topic", tags);
      for (Instrumentation.Outcome o : OUTCOMES) {
        process[o.ordinal()] = processTimer(o, null);
      }
    }

    Timer processTimer(Instrumentation.Outcome outcome, Throwable failure) {
      Tags tags =
          Tags.of(
              SYSTEM,
              system,
              DESTINATION,
              topic,
              GROUP,
              group,
              OUTCOME,
              outcome.name().toLowerCase(Locale.ROOT));
      if (failure != null) {
        tags = tags.and(ERROR_TYPE, errorType(failure));
      }
      return Timer.builder(PolybusMetrics.PROCESS_DURATION)
          .description("Delivery attempts, from the handler's start until settled")
          .tags(tags)
          .register(registry);
    }
  }

  /**
   * The meters last looked up: a subscription's deliveries share its topic and group strings, so an
   * identity match skips the maps on the common path.
   */
  private volatile GroupMeters lastGroup;

  private GroupMeters group(String topic, String group) {
    GroupMeters last = lastGroup;
    if (last != null && last.topic == topic && last.group == group) {
      return last;
    }
    GroupMeters g = lookUp(topic, group);
    lastGroup = g;
    return g;
  }

  private GroupMeters lookUp(String topic, String group) {
    Map<String, GroupMeters> byGroup = groups.get(topic);
    if (byGroup == null) {
      byGroup = groups.computeIfAbsent(topic, k -> new ConcurrentHashMap<>());
    }
    GroupMeters g = byGroup.get(group);
    return g != null ? g : byGroup.computeIfAbsent(group, k -> new GroupMeters(topic, k));
  }

  @Override
  public Instrumentation.Attempt attempting(Delivery delivery, String partition) {
    GroupMeters g = group(delivery.topic(), delivery.group());
    g.consumed.increment();
    long start = System.nanoTime();
    return new Instrumentation.Attempt() {
      @Override
      public Instrumentation.Scope enter() {
        return NO_SCOPE;
      }

      @Override
      public void settled(Instrumentation.Outcome outcome, Throwable failure) {
        long took = System.nanoTime() - start;
        Timer t = failure == null ? g.process[outcome.ordinal()] : g.processTimer(outcome, failure);
        t.record(took, TimeUnit.NANOSECONDS);
        if (outcome == Instrumentation.Outcome.RETRY) {
          g.retries.increment();
        }
      }
    };
  }

  @Override
  public Instrumentation.Sending deadLettering(
      Instrumentation.Attempt last, Delivery delivery, String deadLetterTopic, Message deadLetter) {
    GroupMeters g = group(delivery.topic(), delivery.group());
    List<Message> one = List.of(deadLetter);
    return new Instrumentation.Sending() {
      @Override
      public List<Message> messages() {
        return one;
      }

      @Override
      public void completed(List<PublishReceipt> receipts, Throwable failure) {
        if (failure == null) {
          g.deadLetters.increment();
        }
      }
    };
  }

  @Override
  public Instrumentation.Sending redriving(
      String deadLetterTopic, Message record, String sourceTopic, Message republished) {
    List<Message> one = List.of(republished);
    return new Instrumentation.Sending() {
      @Override
      public List<Message> messages() {
        return one;
      }

      @Override
      public void completed(List<PublishReceipt> receipts, Throwable failure) {
        if (failure == null) {
          counter(
                  PolybusMetrics.REDRIVEN,
                  "Messages moved back from a dead-letter topic by a redrive",
                  Tags.of(
                      SYSTEM, system, DESTINATION, sourceTopic, DEAD_LETTER_TOPIC, deadLetterTopic))
              .increment();
        }
      }
    };
  }

  // ------------------------------------------------------------------ gauges

  /**
   * One (topic, group) with live subscriptions of this bus: their in-flight sum and the lag last
   * read. Lag fields are written by the refresher thread and read by scrapes.
   */
  private final class Watched {
    final String topic;
    final String group;
    final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
    final List<Meter> meters = new ArrayList<>();
    volatile double lag = Double.NaN;
    volatile double ageSeconds = Double.NaN;
    volatile long readAt;
    volatile boolean everRead;

    Watched(String topic, String group) {
      this.topic = topic;
      this.group = group;
      Tags tags = Tags.of(SYSTEM, system, DESTINATION, topic, GROUP, group);
      meters.add(
          Gauge.builder(PolybusMetrics.IN_FLIGHT, this, Watched::inFlight)
              .description("Deliveries not yet settled")
              .baseUnit("{message}")
              .tags(tags)
              .register(registry));
      if (lagReported) {
        meters.add(
            Gauge.builder(PolybusMetrics.LAG, this, w -> w.fresh() ? w.lag : Double.NaN)
                .description("Messages published and not yet settled by the group")
                .baseUnit("{message}")
                .tags(tags)
                .register(registry));
        meters.add(
            Gauge.builder(PolybusMetrics.LAG_AGE, this, w -> w.fresh() ? w.ageSeconds : Double.NaN)
                .description("Age of the oldest message not yet settled by the group")
                .baseUnit("seconds")
                .tags(tags)
                .register(registry));
        meters.add(
            Gauge.builder(PolybusMetrics.LAG_STALE, this, w -> w.fresh() ? 0 : 1)
                .description("1 while the lag figure is stale (the broker did not answer)")
                .tags(tags)
                .register(registry));
      }
    }

    /** The breaker state of each subscription that had a transition. */
    final Map<Subscription, CircuitBreaker.State> circuits = new ConcurrentHashMap<>();

    private volatile boolean circuitGauge;

    /** Any thread: a breaker of one of these subscriptions changed. */
    void circuit(Subscription s, CircuitBreaker.State to) {
      circuits.put(s, to);
      if (!circuitGauge) {
        synchronized (this) {
          if (!circuitGauge) {
            meters.add(
                Gauge.builder(PolybusMetrics.CIRCUIT_OPEN, this, Watched::circuitsNotClosed)
                    .description("Subscriptions whose circuit breaker is open or half open")
                    .tags(Tags.of(SYSTEM, system, DESTINATION, topic, GROUP, group))
                    .register(registry));
            circuitGauge = true;
          }
        }
      }
    }

    double circuitsNotClosed() {
      int n = 0;
      for (Map.Entry<Subscription, CircuitBreaker.State> e : circuits.entrySet()) {
        if (e.getValue() != CircuitBreaker.State.CLOSED && subscriptions.contains(e.getKey())) {
          n++;
        }
      }
      return n;
    }

    double inFlight() {
      int n = 0;
      for (Subscription s : subscriptions) {
        n += s.inFlight();
      }
      return n;
    }

    boolean fresh() {
      return everRead && System.nanoTime() - readAt <= staleNanos;
    }

    /** Refresher thread. */
    void refresh() {
      try {
        ConsumerLag l = bus.lag(topic, group);
        lag = l.total();
        ageSeconds = l.oldestAge().map(a -> a.toNanos() / 1e9).orElse(Double.NaN);
        readAt = System.nanoTime();
        everRead = true;
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "reading the lag of group " + group + " on " + topic + " failed: " + e);
      }
    }
  }

  @Override
  public void subscribed(Subscription subscription) {
    List<String> key = List.of(subscription.topic(), subscription.group());
    Watched w =
        watched.compute(
            key,
            (k, old) -> {
              Watched v = old != null ? old : new Watched(k.get(0), k.get(1));
              v.subscriptions.add(subscription);
              return v;
            });
    if (lagReported) {
      refresher().execute(w::refresh);
    }
  }

  @Override
  public void circuitChanged(
      Subscription subscription, CircuitBreaker.State from, CircuitBreaker.State to, String why) {
    counter(
            PolybusMetrics.CIRCUIT_TRANSITIONS,
            "Circuit breaker transitions, by the state entered",
            Tags.of(
                SYSTEM,
                system,
                DESTINATION,
                subscription.topic(),
                GROUP,
                subscription.group(),
                "polybus.circuit.state",
                to.name().toLowerCase(Locale.ROOT)))
        .increment();
    Watched w = watched.get(List.of(subscription.topic(), subscription.group()));
    if (w != null) {
      w.circuit(subscription, to);
    }
  }

  @Override
  public void unsubscribed(Subscription subscription) {
    List<String> key = List.of(subscription.topic(), subscription.group());
    watched.computeIfPresent(
        key,
        (k, w) -> {
          w.subscriptions.remove(subscription);
          w.circuits.remove(subscription);
          if (!w.subscriptions.isEmpty()) {
            return w;
          }
          w.meters.forEach(registry::remove);
          return null;
        });
  }

  @Override
  public void closed() {
    ScheduledExecutorService r = refresher;
    if (r != null) {
      r.shutdownNow();
    }
    for (List<String> key : List.copyOf(watched.keySet())) {
      Watched w = watched.remove(key);
      if (w != null) {
        w.meters.forEach(registry::remove);
      }
    }
  }

  private ScheduledExecutorService refresher() {
    ScheduledExecutorService r = refresher;
    if (r != null) {
      return r;
    }
    synchronized (this) {
      if (refresher == null) {
        ScheduledExecutorService s =
            Executors.newSingleThreadScheduledExecutor(
                task -> {
                  Thread t = new Thread(task, "polybus-metrics-lag");
                  t.setDaemon(true);
                  return t;
                });
        s.scheduleWithFixedDelay(
            () -> {
              for (Watched w : watched.values()) {
                w.refresh();
              }
            },
            refreshNanos,
            refreshNanos,
            TimeUnit.NANOSECONDS);
        refresher = s;
      }
      return refresher;
    }
  }
}
