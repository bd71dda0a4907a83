package io.polybus.spool;

import io.polybus.BackPressureException;
import io.polybus.BatchHandler;
import io.polybus.Capabilities;
import io.polybus.Codec;
import io.polybus.ConfigurationException;
import io.polybus.ConsumerLag;
import io.polybus.Delivery;
import io.polybus.Handler;
import io.polybus.Health;
import io.polybus.Message;
import io.polybus.Ordering;
import io.polybus.PayloadTooLargeException;
import io.polybus.Polybus;
import io.polybus.PolybusException;
import io.polybus.PolybusOptions;
import io.polybus.PolybusTimeoutException;
import io.polybus.PublishReceipt;
import io.polybus.RedriveResult;
import io.polybus.Responder;
import io.polybus.RetryPolicy;
import io.polybus.StartFrom;
import io.polybus.SubscribeOptions;
import io.polybus.Subscription;
import io.polybus.TransientPolybusException;
import io.polybus.TypedHandler;
import io.polybus.spi.Messages;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Store-and-forward for any bus: a {@link Polybus} that publishes through the bus it wraps while
 * the broker takes messages, and appends to a local {@code log:} directory what the broker cannot
 * take now, forwarding it later in per-key order with the same id, key, headers and timestamp.
 *
 * <pre>{@code
 * Polybus bus = Spool.open(Polybus.connect("kafka://broker:9092"),
 *     SpoolOptions.builder(Path.of("/var/lib/orders/spool")).maxMessages(1_000_000).build());
 * PublishReceipt r = bus.publishAndWait("orders", Message.of(orderId, json));
 * r.spooled();   // true: durable in the spool, forwarded when the broker answers again
 * }</pre>
 *
 * <h2>Routing a publish</h2>
 *
 * A message's <em>route key</em> is its (topic, key); the keyless messages of a topic share one.
 * For each message, in the order of the calls to the publish methods:
 *
 * <ol>
 *   <li>if a direct publish of its route key is in flight, it waits behind it (in memory, at most
 *       {@link SpoolOptions#maxMessages()} messages across all keys), and is routed by the rules
 *       below once that publish has its outcome. So a key never has two direct publishes in flight
 *       and a later message never overtakes an earlier one: if the earlier one fails and is
 *       spooled, the later one is spooled after it. (The waiting messages of a key leave together,
 *       as one {@code publishAll}, so a hot key costs one round trip per batch, not per message.)
 *   <li>else, if the spool holds messages of its route key not yet forwarded, or the spool is in
 *       spooling-all mode (below), it is appended to the spool;
 *   <li>else it is published through the wrapped bus. If that publish fails transiently ({@link
 *       PolybusException#isTransient()}: broker unavailable, timeout, back-pressure) or is not
 *       confirmed within {@link SpoolOptions#sendTimeout()}, it is appended to the spool instead,
 *       and the spool enters spooling-all mode; any other failure (bad input, configuration,
 *       payload too large, a closed bus) fails the caller's future and is never spooled.
 * </ol>
 *
 * <p><b>Spooling-all mode</b> holds while the broker is taken for down (a direct publish or a
 * forward failed transiently, and nothing has been confirmed since) and while a backlog left in the
 * directory by an earlier process is being forwarded (which keys it holds is not known, so nothing
 * may overtake it). In it every publish is spooled; each key goes direct again once nothing of it
 * is left in the spool.
 *
 * <p>The receipt of a spooled message has {@link PublishReceipt#spooled()} true and an empty
 * position; its future completes when the append did (with {@link SpoolOptions#syncWrites()}, after
 * the append was forced to the device).
 *
 * <h2>Forwarding</h2>
 *
 * A forwarder (a subscription on the spool's log, {@link Ordering#KEY}, {@link
 * SpoolOptions#forwarderConcurrency()} threads, batches of distinct keys) publishes each spooled
 * message to its topic through the wrapped bus and settles it in the log only after the broker
 * confirmed it. A failed forward is retried after a backoff ({@link SpoolOptions#initialBackoff()}
 * doubling up to {@link SpoolOptions#maxBackoff()}, with jitter) while later messages of its key
 * wait and other keys flow. A message the broker refuses for good (a non-transient failure) or that
 * failed {@value #MAX_ATTEMPTS} times is <em>parked</em>: appended to the {@code parked} log of the
 * directory (never lost, never forwarded again by the spool), logged at WARNING and counted in
 * {@link SpoolPending#parked()}; like a dead letter it no longer holds back its key.
 *
 * <h2>Bounds</h2>
 *
 * When the spool holds {@link SpoolOptions#maxMessages()} messages not yet forwarded (or {@link
 * SpoolOptions#maxBytes()} bytes), a publish that would be spooled fails at once with a {@link
 * BackPressureException} naming the directory and the bound; nothing already spooled is dropped.
 *
 * <h2>Guarantees and the crash window</h2>
 *
 * <ul>
 *   <li>Every publish whose future completed, direct or spooled, reaches the broker as long as a
 *       spool runs on the directory (this process, or a later one after a crash) and the broker
 *       takes it, or it is parked, visibly.
 *   <li>Per route key, messages reach the broker in publish order (first copies).
 *   <li>Duplicates, always with the same id, only when a forward was confirmed by the broker and
 *       the process died before the log recorded its settle (the next process forwards it again,
 *       possibly after later messages of its key that went direct), or when the broker stored a
 *       publish whose failure or timeout the spool was told of (it is spooled and sent again).
 *   <li>Not guaranteed: order across route keys; a spooled message surviving the loss of the
 *       machine without {@link SpoolOptions#syncWrites()}; anything when two processes share a
 *       directory (refused: see below).
 * </ul>
 *
 * <h2>What is not spooled</h2>
 *
 * Only the publish methods go through the spool. {@link #request}, the replies of {@link #respond},
 * {@link #redrive}, dead letters and everything else are the wrapped bus's, untouched.
 *
 * <h2>Threads, ownership, lifecycle</h2>
 *
 * Thread-safe; share one instance. {@link #open} takes ownership of the wrapped bus: {@link
 * #close()} closes the spool (it waits up to {@link SpoolOptions#sendTimeout()} for direct
 * publishes in flight, so that their failures are spooled rather than lost, then closes the
 * forwarder and the spool's logs) and then the wrapped bus, which also closes every subscription
 * made through this one. Close the spool rather than the wrapped bus. What is still spooled stays
 * in the directory and is forwarded by the next spool opened on it. The directory belongs to one
 * process at a time: {@link #open} holds an exclusive lock on {@code spool.lock} in it (released by
 * the OS when the process dies). Spooled messages are never lost to a crash of the process; without
 * {@link SpoolOptions#syncWrites()} a crash of the machine can lose the latest ones.
 *
 * <p>The directory holds {@code spool.lock}, one or more {@code gen-<millis>} {@code log:}
 * directories (a new one at each open and whenever the current one is drained and has grown past
 * one segment; a drained one is deleted) and, once something was parked, {@code parked}: a {@code
 * log:} directory whose topic {@value #PARKED_TOPIC} holds the parked records.
 */
public final class Spool implements Polybus {
  /** Forward attempts of one message before it is parked: the most a {@link RetryPolicy} has. */
  public static final int MAX_ATTEMPTS = 1000;

  /** The topic parked records are appended to, in the directory's {@code parked} log. */
  public static final String PARKED_TOPIC = "parked";

  static final String TOPIC = "spool";
  static final String GROUP = "forwarder";
  static final String LOCK_FILE = "spool.lock";
  static final String PARKED_DIR = "parked";
  private static final int BATCH = 256;
  private static final long MAINTENANCE_MILLIS = 200;
  private static final System.Logger LOG = System.getLogger("io.polybus.spool");

  private final Polybus bus;
  private final SpoolOptions options;
  private final Path dir;
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private final RetryPolicy retry;
  private final long segmentBytes;
  private final String logParameters;
  private final ScheduledExecutorService maintenance;

  /**
   * Sends the batches that a completion released (the next messages of a key): a completion may run
   * on the broker client's I/O thread, which must not be made to publish (Kafka's send blocks there
   * when its buffer is full).
   */
  private final java.util.concurrent.ExecutorService sender;

  private final Object lock = new Object();

  // Everything below is guarded by `lock`.
  private final Map<RouteKey, KeyState> keys = new HashMap<>();

  /** Generations left by earlier processes, oldest first; the head is the one being forwarded. */
  private final ArrayDeque<Generation> legacy = new ArrayDeque<>();

  private Generation current;

  /** Messages this process spooled and that are not yet forwarded or parked, and their bytes. */
  private long own;

  private long ownBytes;

  /** When each of those was spooled (millis → how many): its first key is the oldest. */
  private final TreeMap<Long, Integer> spooledAt = new TreeMap<>();

  /** Messages waiting in memory behind an in-flight direct publish of their key. */
  private long waiting;

  private int directBatchesInFlight;
  private boolean brokerDown;
  private int consecutiveFailures;
  private long parked;
  private Polybus parkedLog;
  private volatile boolean closed;

  private Spool(
      Polybus bus,
      SpoolOptions options,
      Path dir,
      FileChannel lockChannel,
      FileLock fileLock,
      long segmentBytes,
      String logParameters) {
    this.bus = bus;
    this.options = options;
    this.dir = dir;
    this.lockChannel = lockChannel;
    this.fileLock = fileLock;
    this.segmentBytes = segmentBytes;
    this.logParameters = logParameters;
    this.retry =
        RetryPolicy.builder()
            .maxAttempts(MAX_ATTEMPTS)
            .initialBackoff(options.initialBackoff())
            .maxBackoff(options.maxBackoff())
            .multiplier(2)
            .jitter(0.1)
            .build();
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "polybus-spool-send-" + dir.getFileName());
              t.setDaemon(true);
              return t;
            });
    this.maintenance =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "polybus-spool-" + dir.getFileName());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Opens a spool in {@link SpoolOptions#directory()} around {@code bus}, which it takes ownership
   * of (see the class doc). Messages an earlier process left in the directory are forwarded first;
   * until they all are, every publish is spooled behind them.
   *
   * @throws IllegalStateException if another process (or another spool of this one) has the
   *     directory open
   * @throws ConfigurationException if the directory cannot be created or used
   * @throws PolybusException if a {@code log:} directory in it cannot be opened
   */
  public static Spool open(Polybus bus, SpoolOptions options) {
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(options, "options");
    Path dir = options.directory().toAbsolutePath().normalize();
    FileChannel channel = null;
    FileLock fileLock;
    try {
      Files.createDirectories(dir);
      channel =
          FileChannel.open(
              dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        fileLock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        fileLock = null;
      }
      if (fileLock == null) {
        channel.close();
        throw new IllegalStateException(
            "the spool directory " + dir + " is in use by another spool (" + LOCK_FILE + ")");
      }
    } catch (IOException e) {
      closeQuietly(channel);
      throw new ConfigurationException("cannot use the spool directory " + dir + ": " + e, e);
    }
    // The log must take whatever the wrapped bus takes, plus the record layout around it.
    long maxPayload =
        Math.min(
            256L << 20, (long) bus.capabilities().maxPayloadBytes() + SpoolRecord.MAX_OVERHEAD);
    long segment = 16L << 20;
    while (segment < maxPayload + (256 << 10) && segment < (1L << 30)) {
      segment <<= 1;
    }
    String params =
        "?partitions=1&segmentSize="
            + segment
            + "&maxPayload="
            + maxPayload
            + "&fsync="
            + (options.syncWrites() ? "sync" : "none");
    Spool spool = new Spool(bus, options, dir, channel, fileLock, segment, params);
    try {
      spool.start();
    } catch (RuntimeException e) {
      spool.abandon();
      throw e;
    }
    return spool;
  }

  /** Finds what earlier processes left, opens the current generation, starts the forwarder. */
  private void start() {
    List<Path> found = new ArrayList<>();
    try (Stream<Path> entries = Files.list(dir)) {
      entries
          .filter(p -> Files.isDirectory(p) && Generation.createdMillis(p) >= 0)
          .sorted()
          .forEach(found::add);
    } catch (IOException e) {
      throw new ConfigurationException("cannot list the spool directory " + dir + ": " + e, e);
    }
    long newest = 0;
    for (Path p : found) {
      long created = Generation.createdMillis(p);
      newest = Math.max(newest, created);
      Generation g = openGeneration(p, created, true);
      long lag = g.log.lag(TOPIC, GROUP).total();
      if (lag == 0) {
        g.close();
        g.delete();
        continue;
      }
      g.remaining = lag;
      g.diskBytes = Generation.size(p);
      legacy.add(g);
      LOG.log(
          Level.INFO,
          "spool {0}: {1} messages left by an earlier process in {2}; forwarding them first",
          dir,
          Long.toString(lag),
          p.getFileName());
    }
    if (Files.isDirectory(dir.resolve(PARKED_DIR))) {
      parkedLog = Polybus.connect(logUri(dir.resolve(PARKED_DIR)));
    }
    current = newGeneration(newest);
    activate(legacy.isEmpty() ? current : legacy.peek());
    maintenance.scheduleWithFixedDelay(
        this::maintain, MAINTENANCE_MILLIS, MAINTENANCE_MILLIS, TimeUnit.MILLISECONDS);
  }

  private String logUri(Path p) {
    StringBuilder sb = new StringBuilder("log:");
    byte[] bytes = p.toString().getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      int c = b & 0xFF;
      boolean plain =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '/'
              || c == '.'
              || c == '_'
              || c == '-'
              || c == '~';
      if (plain) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        sb.append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return sb + logParameters;
  }

  /** Opens a generation's log, without its forwarder. */
  private Generation openGeneration(Path p, long created, boolean isLegacy) {
    return new Generation(p, created, Polybus.connect(logUri(p)), isLegacy);
  }

  /**
   * Subscribes the forwarder of {@code g}. A new generation's is subscribed (and paused while a
   * backlog goes first) when it is created, before anything is appended, so that its group exists
   * and the log's lag counts every record from the first; a backlog's is subscribed when its turn
   * comes, since a subscription may deliver before it could be paused.
   */
  private void subscribeForwarder(Generation g, boolean paused) {
    Duration ackTimeout = options.sendTimeout().multipliedBy(2);
    SubscribeOptions so =
        SubscribeOptions.builder()
            .ordering(Ordering.KEY)
            .concurrency(options.forwarderConcurrency())
            .retryPolicy(retry)
            .startFrom(StartFrom.EARLIEST)
            .maxBatchSize(BATCH)
            .maxBatchWait(Duration.ofMillis(5))
            .ackTimeout(
                ackTimeout.compareTo(Duration.ofSeconds(30)) < 0
                    ? Duration.ofSeconds(30)
                    : ackTimeout)
            .build();
    BatchHandler handler = batch -> forward(g, batch);
    Subscription s = g.log.subscribeBatch(TOPIC, GROUP, handler, so);
    if (paused) {
      s.pause();
    }
    g.forwarder = s;
  }

  /** Lets the forwarder of {@code g} run: its turn has come. */
  private void activate(Generation g) {
    if (g.forwarder == null) {
      subscribeForwarder(g, false);
    } else {
      g.forwarder.resume();
    }
  }

  /** A fresh generation, named after now (later than {@code after}, so names sort by age). */
  private Generation newGeneration(long after) {
    long created = Math.max(System.currentTimeMillis(), after + 1);
    Path p = dir.resolve(Generation.name(created));
    while (Files.exists(p)) {
      created++;
      p = dir.resolve(Generation.name(created));
    }
    Generation g = openGeneration(p, created, false);
    try {
      subscribeForwarder(g, true);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  @Override
  public CompletableFuture<PublishReceipt> publish(String topic, Message message) {
    checkOpen();
    checkTopic(topic);
    Message m = prepare(message);
    CompletableFuture<PublishReceipt> result = new CompletableFuture<>();
    Effects fx = new Effects();
    synchronized (lock) {
      checkOpen();
      Batch direct = new Batch(topic);
      route(new Item(new RouteKey(topic, m.key()), m, result), direct, fx);
      if (!direct.items.isEmpty()) {
        directBatchesInFlight++;
        fx.send(direct);
      }
    }
    fx.run();
    return result;
  }

  /**
   * Publishes several messages to one topic, each routed as {@link #publish} would in list order
   * (those of one key that go direct leave in one {@code publishAll} of the wrapped bus). Every
   * message is checked before any is routed. The future fails, with the first failure, if any
   * message failed; the others were sent or spooled all the same.
   */
  @Override
  public CompletableFuture<List<PublishReceipt>> publishAll(String topic, List<Message> messages) {
    checkOpen();
    checkTopic(topic);
    Objects.requireNonNull(messages, "messages");
    List<Message> prepared = new ArrayList<>(messages.size());
    for (Message message : messages) {
      prepared.add(prepare(message));
    }
    if (prepared.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<CompletableFuture<PublishReceipt>> results = new ArrayList<>(prepared.size());
    Effects fx = new Effects();
    synchronized (lock) {
      checkOpen();
      Batch direct = new Batch(topic);
      for (Message m : prepared) {
        CompletableFuture<PublishReceipt> r = new CompletableFuture<>();
        results.add(r);
        route(new Item(new RouteKey(topic, m.key()), m, r), direct, fx);
      }
      if (!direct.items.isEmpty()) {
        directBatchesInFlight++;
        fx.send(direct);
      }
    }
    fx.run();
    CompletableFuture<List<PublishReceipt>> all = new CompletableFuture<>();
    CompletableFuture.allOf(results.toArray(new CompletableFuture<?>[0]))
        .whenComplete(
            (v, e) -> {
              if (e != null) {
                for (CompletableFuture<PublishReceipt> r : results) {
                  if (r.isCompletedExceptionally()) {
                    all.completeExceptionally(unwrap(failureOf(r)));
                    return;
                  }
                }
                all.completeExceptionally(unwrap(e));
                return;
              }
              List<PublishReceipt> out = new ArrayList<>(results.size());
              results.forEach(r -> out.add(r.join()));
              all.complete(List.copyOf(out));
            });
    return all;
  }

  @Override
  public PublishReceipt publishAndWait(String topic, Message message) {
    return await(publish(topic, message));
  }

  @Override
  public List<PublishReceipt> publishAllAndWait(String topic, List<Message> messages) {
    return await(publishAll(topic, messages));
  }

  /** The hook, then the checks the wrapped bus would make, so either route refuses the same. */
  private Message prepare(Message message) {
    Objects.requireNonNull(message, "message");
    Message m =
        Objects.requireNonNull(
            options.beforePublish().apply(message), "beforePublish returned null");
    Capabilities c = bus.capabilities();
    if (m.payloadSize() > c.maxPayloadBytes()) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has a payload of "
              + m.payloadSize()
              + " bytes; the "
              + bus.options().scheme()
              + " backend accepts at most "
              + c.maxPayloadBytes());
    }
    if (m.headers().size() > c.maxHeaders()) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has "
              + m.headers().size()
              + " headers; the "
              + bus.options().scheme()
              + " backend accepts at most "
              + c.maxHeaders());
    }
    long metadata = m.key() == null ? 0 : Messages.utf8Length(m.key());
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      metadata += Messages.utf8Length(h.getKey()) + Messages.utf8Length(h.getValue());
    }
    if (metadata > Message.MAX_METADATA_BYTES) {
      throw new PayloadTooLargeException(
          "message "
              + m.id()
              + " has a key and headers of more than "
              + Message.MAX_METADATA_BYTES
              + " bytes in UTF-8 (Message.MAX_METADATA_BYTES, the same on every backend)");
    }
    return m;
  }

  /**
   * Routes one message by the rules of the class doc. A message that goes direct joins {@code
   * direct}, the batch this call sends; a key already in {@code direct} may add to it (the wrapped
   * bus appends one publishAll in order).
   */
  private void route(Item item, Batch direct, Effects fx) {
    KeyState ks = keys.get(item.rk);
    if (ks != null && ks.inFlight != null) {
      if (ks.inFlight == direct && ks.waiting.isEmpty()) {
        direct.items.add(item);
        return;
      }
      if (waiting >= options.maxMessages()) {
        fx.fail(
            item.result,
            new BackPressureException(
                "spool "
                    + dir
                    + ": "
                    + waiting
                    + " messages wait behind in-flight publishes of their keys (maxMessages "
                    + options.maxMessages()
                    + ")"));
        return;
      }
      ks.waiting.add(item);
      waiting++;
      return;
    }
    if (spoolingAll() || (ks != null && ks.spooled > 0)) {
      spool(item, null, fx);
      return;
    }
    if (ks == null) {
      ks = new KeyState();
      keys.put(item.rk, ks);
    }
    ks.inFlight = direct;
    direct.items.add(item);
  }

  private boolean spoolingAll() {
    return brokerDown || !legacy.isEmpty();
  }

  /** Appends {@code item} to the current generation, or fails it when the spool is full. */
  private void spool(Item item, Throwable cause, Effects fx) {
    long held = own + legacyRemaining();
    if (held >= options.maxMessages()) {
      fx.fail(item.result, full(held + " messages", "maxMessages " + options.maxMessages(), cause));
      return;
    }
    int size = SpoolRecord.encodedSize(item.rk.topic, item.message);
    long bytes = ownBytes + legacyBytes();
    if (options.maxBytes() > 0 && bytes + size > options.maxBytes()) {
      fx.fail(item.result, full(bytes + " bytes", "maxBytes " + options.maxBytes(), cause));
      return;
    }
    long now = System.currentTimeMillis();
    Message record = SpoolRecord.encode(item.rk.topic, item.message, now);
    CompletableFuture<PublishReceipt> appended;
    try {
      appended = current.log.publish(TOPIC, record);
    } catch (RuntimeException e) {
      appended = CompletableFuture.failedFuture(e);
    }
    if (appended.isCompletedExceptionally()) {
      // Nothing was appended (a full disk, an I/O error): the caller learns it, with the failure
      // that sent the message here, if any.
      Throwable e = unwrap(failureOf(appended));
      if (cause != null) {
        e.addSuppressed(cause);
      }
      fx.fail(item.result, e);
      return;
    }
    own++;
    ownBytes += size;
    spooledAt.merge(now, 1, Integer::sum);
    current.appendedBytes += size;
    KeyState ks = keys.computeIfAbsent(item.rk, k -> new KeyState());
    ks.spooled++;
    CompletableFuture<PublishReceipt> a = appended;
    fx.later(
        () ->
            a.whenComplete(
                (r, e) -> {
                  if (e == null) {
                    item.result.complete(
                        new PublishReceipt(item.rk.topic, item.message.id(), "", true));
                  } else {
                    item.result.completeExceptionally(unwrap(e));
                  }
                }));
  }

  private BackPressureException full(String held, String bound, Throwable cause) {
    return new BackPressureException(
        "the spool " + dir + " is full: it holds " + held + " not yet forwarded (" + bound + ")",
        cause);
  }

  private long legacyRemaining() {
    long n = 0;
    for (Generation g : legacy) {
      n += g.remaining;
    }
    return n;
  }

  private long legacyBytes() {
    long n = 0;
    for (Generation g : legacy) {
      n += g.diskBytes;
    }
    return n;
  }

  /** Sends a direct batch through the wrapped bus; runs outside the lock. */
  private void send(Batch b) {
    List<Message> messages = new ArrayList<>(b.items.size());
    for (Item i : b.items) {
      messages.add(i.message);
    }
    CompletableFuture<List<PublishReceipt>> f;
    try {
      f =
          messages.size() == 1
              ? bus.publish(b.topic, messages.get(0)).thenApply(List::of)
              : bus.publishAll(b.topic, messages);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.copy()
        .orTimeout(options.sendTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((receipts, e) -> sent(b, receipts, e));
  }

  /** The outcome of a direct batch: complete, spool or fail its items, then release its keys. */
  private void sent(Batch b, List<PublishReceipt> receipts, Throwable failure) {
    Throwable e = failure == null ? null : unwrap(failure);
    if (e instanceof TimeoutException) {
      e =
          new PolybusTimeoutException(
              "the broker did not confirm within the spool's sendTimeout ("
                  + options.sendTimeout()
                  + ")",
              e);
    }
    Effects fx = new Effects(sender);
    synchronized (lock) {
      directBatchesInFlight--;
      if (e == null) {
        brokerDown = false;
        for (int i = 0; i < b.items.size(); i++) {
          fx.complete(b.items.get(i).result, receipts.get(i));
        }
      } else if (isTransient(e)) {
        if (!brokerDown) {
          LOG.log(
              Level.WARNING,
              "spool {0}: a publish to {1} failed ({2}); spooling every publish until the broker"
                  + " confirms one again",
              dir,
              b.topic,
              e.toString());
        }
        brokerDown = true;
        for (Item item : b.items) {
          spool(item, e, fx);
        }
      } else {
        for (Item item : b.items) {
          fx.fail(item.result, e);
        }
      }
      LinkedHashSet<RouteKey> released = new LinkedHashSet<>();
      for (Item item : b.items) {
        released.add(item.rk);
      }
      for (RouteKey rk : released) {
        KeyState ks = keys.get(rk);
        if (ks != null && ks.inFlight == b) {
          ks.inFlight = null;
          drain(rk, ks, fx);
        }
      }
      lock.notifyAll();
    }
    fx.run();
  }

  /**
   * Routes the messages that waited behind a key's direct publish, now that it has its outcome:
   * spooled while the key has spooled messages or the spool spools all, else sent together.
   */
  private void drain(RouteKey rk, KeyState ks, Effects fx) {
    while (ks.inFlight == null && !ks.waiting.isEmpty()) {
      if (spoolingAll() || ks.spooled > 0) {
        waiting--;
        spool(ks.waiting.poll(), null, fx);
        continue;
      }
      Batch next = new Batch(rk.topic);
      while (!ks.waiting.isEmpty() && next.items.size() < BATCH) {
        next.items.add(ks.waiting.poll());
        waiting--;
      }
      ks.inFlight = next;
      directBatchesInFlight++;
      fx.send(next);
    }
    if (ks.idle()) {
      keys.remove(rk);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Forwarding

  /**
   * The forwarder's batch handler: a batch holds at most one message per key (Ordering.KEY), so all
   * of it is published at once; each message is settled on its own outcome.
   */
  private void forward(Generation g, List<Delivery> batch) {
    int n = batch.size();
    SpoolRecord[] records = new SpoolRecord[n];
    List<CompletableFuture<PublishReceipt>> sends = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Delivery d = batch.get(i);
      try {
        records[i] = SpoolRecord.decode(d.message());
      } catch (IllegalArgumentException e) {
        park(g, d, null, e);
        sends.add(null);
        continue;
      }
      CompletableFuture<PublishReceipt> f;
      try {
        f = bus.publish(records[i].topic, records[i].message);
      } catch (RuntimeException e) {
        f = CompletableFuture.failedFuture(e);
      }
      sends.add(f);
    }
    long deadline = System.nanoTime() + options.sendTimeout().toNanos();
    for (int i = 0; i < n; i++) {
      CompletableFuture<PublishReceipt> f = sends.get(i);
      if (f == null) {
        continue;
      }
      Delivery d = batch.get(i);
      Throwable failure = null;
      try {
        f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = e;
      } catch (ExecutionException e) {
        failure = unwrap(e);
      } catch (TimeoutException e) {
        failure =
            new PolybusTimeoutException(
                "the broker did not confirm within the spool's sendTimeout ("
                    + options.sendTimeout()
                    + ")",
                e);
      }
      if (failure == null) {
        if (d.ack()) {
          settled(g, records[i], true);
        }
      } else if (!isRetryable(failure) || d.attempt() >= MAX_ATTEMPTS) {
        park(g, d, records[i], failure);
      } else {
        failedAttempt(records[i], failure);
        d.retry(retry.backoff(d.attempt()));
      }
    }
  }

  /** The forwarder confirmed or parked {@code r}: the spool holds one message fewer. */
  private void settled(Generation g, SpoolRecord r, boolean forwarded) {
    synchronized (lock) {
      if (forwarded) {
        if (consecutiveFailures > 0) {
          LOG.log(
              Level.INFO,
              "spool {0}: forwarding again after {1} failed attempts",
              dir,
              Integer.toString(consecutiveFailures));
        }
        consecutiveFailures = 0;
        brokerDown = false;
      }
      if (g.legacy) {
        g.remaining = Math.max(0, g.remaining - 1);
      } else if (r != null) {
        own--;
        ownBytes -= r.size;
        spooledAt.computeIfPresent(r.spooledAtMillis, (k, v) -> v == 1 ? null : v - 1);
        RouteKey rk = new RouteKey(r.topic, r.message.key());
        KeyState ks = keys.get(rk);
        if (ks != null) {
          ks.spooled--;
          if (ks.idle()) {
            keys.remove(rk);
          }
        }
      }
      lock.notifyAll();
    }
  }

  private void failedAttempt(SpoolRecord r, Throwable failure) {
    int n;
    synchronized (lock) {
      brokerDown = true;
      n = ++consecutiveFailures;
    }
    if (Integer.bitCount(n) == 1) { // the 1st, 2nd, 4th, 8th... consecutive failure
      LOG.log(
          Level.WARNING,
          "spool {0}: forwarding {1} to {2} failed ({3} consecutive failures): {4}",
          dir,
          r.message.id(),
          r.topic,
          Integer.toString(n),
          failure.toString());
    }
  }

  /**
   * Gives up on a record: appends it as it is to the {@code parked} log, then settles it. If even
   * that fails, the record is retried later instead of being dropped.
   */
  private void park(Generation g, Delivery d, SpoolRecord r, Throwable failure) {
    try {
      Polybus p;
      synchronized (lock) {
        if (parkedLog == null) {
          parkedLog = Polybus.connect(logUri(dir.resolve(PARKED_DIR)));
        }
        p = parkedLog;
      }
      p.publishAndWait(PARKED_TOPIC, d.message());
    } catch (RuntimeException e) {
      LOG.log(Level.ERROR, "spool " + dir + ": cannot park " + d.message().id(), e);
      d.retry(retry.maxBackoff());
      return;
    }
    LOG.log(
        Level.WARNING,
        "spool {0}: parked {1} (topic {2}, key {3}) after {4} attempts: {5}",
        dir,
        d.message().id(),
        r == null ? "?" : r.topic,
        r == null ? d.message().key() : r.message.key(),
        Integer.toString(d.attempt()),
        failure.toString());
    if (d.ack()) {
      synchronized (lock) {
        parked++;
      }
      settled(g, r, false);
    }
  }

  private static boolean isRetryable(Throwable e) {
    if (e instanceof PolybusException) {
      return ((PolybusException) e).isTransient();
    }
    // A bus closed under the forwarder (IllegalStateException) or anything unexpected: the record
    // stays and is tried again.
    return !(e instanceof IllegalArgumentException);
  }

  private static boolean isTransient(Throwable e) {
    return e instanceof PolybusException && ((PolybusException) e).isTransient();
  }

  // ---------------------------------------------------------------------------------------------
  // Maintenance: legacy generations and rotation

  private void maintain() {
    try {
      Generation head;
      synchronized (lock) {
        if (closed) {
          return;
        }
        head = legacy.peek();
      }
      if (head != null) {
        long lag = head.log.lag(TOPIC, GROUP).total();
        if (lag > 0) {
          synchronized (lock) {
            head.remaining = lag;
          }
          return;
        }
        head.close();
        head.delete();
        Generation next;
        synchronized (lock) {
          legacy.poll();
          next = legacy.isEmpty() ? current : legacy.peek();
          lock.notifyAll();
        }
        LOG.log(Level.INFO, "spool {0}: forwarded what {1} held", dir, head.dir.getFileName());
        activate(next);
        return;
      }
      maybeRotate();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "spool " + dir + ": maintenance failed; trying again", e);
    }
  }

  /**
   * Starts a new generation once the current one has nothing left to forward and has grown past a
   * segment, and deletes the old one: the log keeps consumed records, so this is how the spool's
   * disk use shrinks.
   */
  private void maybeRotate() {
    long after;
    synchronized (lock) {
      if (closed || own > 0 || current.appendedBytes < segmentBytes) {
        return;
      }
      after = current.createdMillis;
    }
    Generation next = newGeneration(after);
    Generation old = null;
    synchronized (lock) {
      if (!closed && own == 0 && legacy.isEmpty()) {
        old = current;
        current = next;
      }
    }
    if (old == null) {
      next.close();
      next.delete();
      return;
    }
    activate(next);
    old.close();
    old.delete();
  }

  // ---------------------------------------------------------------------------------------------
  // Observability

  /** What the spool holds and has not forwarded yet; cheap, reads memory only. */
  public SpoolPending pending() {
    synchronized (lock) {
      long oldest = Long.MAX_VALUE;
      if (!spooledAt.isEmpty()) {
        oldest = spooledAt.firstKey();
      }
      for (Generation g : legacy) {
        if (g.remaining > 0) {
          oldest = Math.min(oldest, g.createdMillis);
          break;
        }
      }
      Duration age =
          oldest == Long.MAX_VALUE
              ? Duration.ZERO
              : Duration.ofMillis(Math.max(0, System.currentTimeMillis() - oldest));
      return new SpoolPending(
          own + legacyRemaining(), ownBytes + legacyBytes(), age, spoolingAll(), parked);
    }
  }

  /** The spool's directory (absolute). */
  public Path directory() {
    return dir;
  }

  /** The options the spool was opened with. */
  public SpoolOptions spoolOptions() {
    return options;
  }

  /**
   * The wrapped bus's health, unless the spool's own log is down: then down, naming the spool
   * directory. A broker that is down makes this down although publishes still succeed (spooled).
   */
  @Override
  public Health health() {
    Generation g;
    synchronized (lock) {
      g = current;
    }
    Health h = bus.health();
    Health s;
    try {
      s = g.log.health();
    } catch (IllegalStateException e) {
      s = Health.down("closed");
    }
    if (!s.up()) {
      return Health.down("spool " + dir + ": " + s.detail() + "; bus: " + h.detail());
    }
    return h;
  }

  // ---------------------------------------------------------------------------------------------
  // Delegated untouched

  @Override
  public CompletableFuture<Message> request(String topic, Message request, Duration timeout) {
    return bus.request(topic, request, timeout);
  }

  @Override
  public <Q, R> CompletableFuture<R> request(
      String topic, Q request, Codec<Q> requestCodec, Codec<R> replyCodec, Duration timeout) {
    return bus.request(topic, request, requestCodec, replyCodec, timeout);
  }

  @Override
  public PolybusOptions options() {
    return bus.options();
  }

  @Override
  public Capabilities capabilities() {
    return bus.capabilities();
  }

  @Override
  public RedriveResult redrive(String deadLetterTopic, Duration idle) {
    return bus.redrive(deadLetterTopic, idle);
  }

  @Override
  public ConsumerLag lag(String topic, String group) {
    return bus.lag(topic, group);
  }

  @Override
  public Subscription subscribe(String topic, String group, Handler handler) {
    return bus.subscribe(topic, group, handler);
  }

  @Override
  public Subscription subscribe(
      String topic, String group, Handler handler, SubscribeOptions options) {
    return bus.subscribe(topic, group, handler, options);
  }

  @Override
  public <T> Subscription subscribe(
      String topic,
      String group,
      Codec<T> codec,
      TypedHandler<T> handler,
      SubscribeOptions options) {
    return bus.subscribe(topic, group, codec, handler, options);
  }

  @Override
  public Subscription subscribeBatch(
      String topic, String group, BatchHandler handler, SubscribeOptions options) {
    return bus.subscribeBatch(topic, group, handler, options);
  }

  @Override
  public Subscription respond(
      String topic, String group, Responder responder, SubscribeOptions options) {
    return bus.respond(topic, group, responder, options);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /**
   * Closes the spool, then the wrapped bus (see the class doc). Waits up to {@link
   * SpoolOptions#sendTimeout()} for direct publishes in flight. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      long deadline = System.nanoTime() + options.sendTimeout().toNanos() + 1_000_000_000L;
      while (directBatchesInFlight > 0 || waiting > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          LOG.log(
              Level.WARNING,
              "spool {0}: closing with {1} direct publishes still unconfirmed",
              dir,
              Integer.toString(directBatchesInFlight));
          break;
        }
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    maintenance.shutdownNow();
    sender.shutdown();
    try {
      maintenance.awaitTermination(30, TimeUnit.SECONDS);
      sender.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<Generation> gens;
    Polybus p;
    synchronized (lock) {
      gens = new ArrayList<>(legacy);
      gens.add(current);
      p = parkedLog;
    }
    try {
      for (Generation g : gens) {
        closeQuietly(g::close);
      }
      if (p != null) {
        closeQuietly(p::close);
      }
      closeQuietly(bus::close);
    } finally {
      releaseLock();
    }
  }

  /** Undoes a failed {@link #open}: closes what was opened, not the wrapped bus. */
  private void abandon() {
    maintenance.shutdownNow();
    sender.shutdownNow();
    for (Generation g : legacy) {
      closeQuietly(g::close);
    }
    if (current != null) {
      closeQuietly(current::close);
    }
    if (parkedLog != null) {
      closeQuietly(parkedLog::close);
    }
    releaseLock();
  }

  private void releaseLock() {
    try {
      fileLock.release();
    } catch (IOException e) {
      // the channel's close below releases it too
    }
    closeQuietly(lockChannel);
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("this spool (" + dir + ") is closed");
    }
  }

  /**
   * The portable-name rule of {@code io.polybus.internal.Names} (not exported): checked here
   * because a spooled message reaches the wrapped bus only later.
   */
  private static void checkTopic(String topic) {
    Objects.requireNonNull(topic, "topic");
    boolean ok = !topic.isEmpty() && topic.length() <= 100;
    if (ok) {
      char first = topic.charAt(0);
      ok = first != '.' && first != '-';
    }
    for (int i = 0; ok && i < topic.length(); i++) {
      char c = topic.charAt(i);
      ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
    }
    if (!ok) {
      throw new IllegalArgumentException(
          "invalid topic name '"
              + (topic.length() > 120 ? topic.substring(0, 120) + "..." : topic)
              + "': a portable name is 1 to 100 characters of [A-Za-z0-9._-] and does not start"
              + " with '.' or '-'");
    }
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransientPolybusException(
          "interrupted while waiting for the broker's confirmation", e);
    } catch (ExecutionException e) {
      Throwable t = unwrap(e);
      if (t instanceof RuntimeException) {
        throw (RuntimeException) t;
      }
      throw new TransientPolybusException("publish failed: " + t, t);
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    try {
      f.join();
      return new IllegalStateException("not failed");
    } catch (CompletionException | java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "closing " + c + " failed", e);
    }
  }

  @Override
  public String toString() {
    return "Spool{" + dir + " -> " + bus.options().redacted() + "}";
  }

  // ---------------------------------------------------------------------------------------------

  /** A message's (topic, key); the key is null for the keyless messages of a topic. */
  private record RouteKey(String topic, String key) {}

  private record Item(RouteKey rk, Message message, CompletableFuture<PublishReceipt> result) {}

  /** Messages sent together in one call of the wrapped bus, all to one topic. */
  private static final class Batch {
    final String topic;
    final List<Item> items = new ArrayList<>();

    Batch(String topic) {
      this.topic = topic;
    }
  }

  /** The routing state of one route key; present only while it is not idle. */
  private static final class KeyState {
    /** Messages of this key this process spooled and the forwarder has not settled. */
    int spooled;

    /** The direct publish of this key in flight, or null. */
    Batch inFlight;

    /** Messages behind {@link #inFlight}, in publish order. */
    final ArrayDeque<Item> waiting = new ArrayDeque<>();

    boolean idle() {
      return spooled == 0 && inFlight == null && waiting.isEmpty();
    }
  }

  /**
   * What a routing step decided that must happen outside the lock: sends to the wrapped bus and
   * completions of callers' futures (whose callbacks must not run under the lock), in order.
   */
  private final class Effects {
    private final List<Runnable> actions = new ArrayList<>();

    /** Where sends run, or null for the calling thread. */
    private final java.util.concurrent.Executor sends;

    Effects() {
      this(null);
    }

    Effects(java.util.concurrent.Executor sends) {
      this.sends = sends;
    }

    void send(Batch b) {
      if (sends == null) {
        actions.add(() -> Spool.this.send(b));
      } else {
        actions.add(() -> submit(b));
      }
    }

    private void submit(Batch b) {
      try {
        sends.execute(() -> Spool.this.send(b));
      } catch (java.util.concurrent.RejectedExecutionException e) {
        Spool.this.send(b); // closing: the executor is gone, send from here
      }
    }

    void complete(CompletableFuture<PublishReceipt> f, PublishReceipt r) {
      actions.add(() -> f.complete(r));
    }

    void fail(CompletableFuture<PublishReceipt> f, Throwable e) {
      actions.add(() -> f.completeExceptionally(e));
    }

    void later(Runnable r) {
      actions.add(r);
    }

    void run() {
      for (Runnable r : actions) {
        r.run();
      }
    }
  }
}
