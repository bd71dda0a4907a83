package io.polybus.redis;

import io.polybus.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Protocol.Command;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Sends settlements without blocking the threads that settle: acks ({@code XACK}, many ids per
 * command), parked retries (the park script), noted attempts ({@code XCLAIM ... RETRYCOUNT}) and
 * dead letters (the dead-letter script) are queued and sent by one thread as one pipeline per
 * round, in the order they were queued.
 *
 * <p>Nothing is dropped on a connection failure: the round is sent again (every operation in it is
 * idempotent except a dead letter, which the contract allows to be duplicated by a crash) with a
 * backoff, until the backend closes. {@link #flush(Duration)} sends everything queued so far before
 * it returns true; consumers call it before they give work back to their group, so that a new owner
 * never receives what this member already acked. Thread-safe.
 */
final class Settler {
  private static final System.Logger LOG = System.getLogger(Settler.class.getName());

  private final RedisBackend backend;
  private final ConcurrentLinkedQueue<Op> queue = new ConcurrentLinkedQueue<>();

  /**
   * Held while ops are taken off the queue and sent: so flush() returns only after earlier ops were
   * sent.
   */
  private final ReentrantLock sending = new ReentrantLock();

  /** Ops of a round that failed, sent first next time; guarded by {@link #sending}. */
  private final List<Op> carry = new ArrayList<>();

  private final Thread thread;
  private volatile boolean running = true;
  private volatile boolean idle;
  private static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
  private static final java.lang.invoke.VarHandle IDLE;

  static {
    try {
      IDLE =
          java.lang.invoke.MethodHandles.lookup()
              .findVarHandle(Settler.class, "idle", boolean.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  Settler(RedisBackend backend) {
    this.backend = backend;
    this.thread = new Thread(this::loop, "polybus-redis-settler");
    thread.setDaemon(true);
    thread.start();
  }

  sealed interface Op permits Ack, Park, Attempts, DeadLetter {}

  record Ack(String stream, String group, String id) implements Op {}

  /** Acks of one stream and group, gathered into one XACK. */
  private record Target(String stream, String group) {}

  record Park(String stream, String group, String id, long delayMillis) implements Op {}

  record Attempts(String stream, String group, String consumer, String id, int attempts)
      implements Op {}

  record DeadLetter(
      String stream,
      String group,
      String id,
      String dlqStream,
      Message message,
      CompletableFuture<Void> done)
      implements Op {}

  void ack(String stream, String group, String id) {
    add(new Ack(stream, group, id));
  }

  void park(String stream, String group, String id, long delayMillis) {
    add(new Park(stream, group, id, delayMillis));
  }

  void attempts(String stream, String group, String consumer, String id, int attempts) {
    add(new Attempts(stream, group, consumer, id, attempts));
  }

  CompletableFuture<Void> deadLetter(RedisConsumer.Record r, String dlqStream, Message message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    add(new DeadLetter(r.stream, r.group, r.entryId, dlqStream, message, done));
    return done;
  }

  private void add(Op op) {
    queue.add(op);
    // Wake the thread only when it sleeps: an unpark per ack would cost a system call per message.
    if (idle && IDLE.compareAndSet(this, true, false)) {
      LockSupport.unpark(thread);
    }
  }

  private void loop() {
    while (running) {
      if (queue.isEmpty() && carry.isEmpty()) {
        idle = true;
        if (queue
            .isEmpty()) { // re-checked after publishing idle: an add in between has seen it and
          // unparks
          LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(100));
        }
        idle = false;
        // Linger a moment so that one XACK carries the acks of many messages (fewer commands for
        // Redis).
        LockSupport.parkNanos(LINGER_NANOS);
      }
      // While open, keep trying; each failed round is retried with a backoff.
      send(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
    }
    // What was queued while closing gets a bounded last chance.
    if (!send(System.nanoTime() + backend.settings.timeout().toNanos() * 2)) {
      fail(
          carry,
          new IllegalStateException("the redis backend closed before the settlement was sent"));
    }
  }

  /**
   * Sends everything queued before this call, retrying failed rounds until {@code deadlineNanos};
   * false when some of it could not be sent by then (it stays queued, first in line, for the
   * settler thread).
   */
  boolean flush(Duration within) {
    return send(System.nanoTime() + within.toNanos());
  }

  private boolean send(long deadlineNanos) {
    try {
      if (!sending.tryLock(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    try {
      List<Op> batch = new ArrayList<>(carry);
      carry.clear();
      Op op;
      while ((op = queue.poll()) != null) {
        batch.add(op);
      }
      long backoff = 50;
      while (!batch.isEmpty()) {
        try {
          batch = send(batch);
        } catch (RuntimeException e) {
          if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) - deadlineNanos > 0) {
            carry.addAll(batch);
            LOG.log(
                System.Logger.Level.DEBUG, "settling failed, kept for later: " + e.getMessage());
            return false;
          }
          try {
            Thread.sleep(backoff);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            carry.addAll(batch);
            return false;
          }
          backoff = Math.min(backoff * 2, 1000);
        }
      }
      return true;
    } finally {
      sending.unlock();
    }
  }

  /** Sends one round; returns the ops to send again (those that met a forgotten script). */
  private List<Op> send(List<Op> batch) {
    Map<Target, List<byte[]>> acks = new LinkedHashMap<>();
    Map<String, List<byte[]>> parks = new LinkedHashMap<>();
    List<Op> singles = new ArrayList<>();
    for (Op op : batch) {
      if (op instanceof Ack a) {
        acks.computeIfAbsent(new Target(a.stream, a.group), k -> new ArrayList<>())
            .add(EntryLayout.bytes(a.id));
      } else if (op instanceof Park p) {
        parks
            .computeIfAbsent(
                p.stream + '\n' + p.group + '\n' + p.delayMillis, k -> new ArrayList<>())
            .add(EntryLayout.bytes(p.id));
      } else {
        singles.add(op);
      }
    }
    List<Response<Object>> parkResponses = new ArrayList<>();
    List<Response<Object>> singleResponses = new ArrayList<>();
    try (AbstractPipeline p = backend.redis.pipelined()) {
      for (Map.Entry<Target, List<byte[]>> e : acks.entrySet()) {
        List<byte[]> args =
            EntryLayout.list(
                EntryLayout.bytes(e.getKey().stream), EntryLayout.bytes(e.getKey().group));
        args.addAll(e.getValue());
        p.sendCommand(Command.XACK, EntryLayout.array(args));
      }
      for (Map.Entry<String, List<byte[]>> e : parks.entrySet()) {
        String[] sgd = e.getKey().split("\n", 3);
        List<byte[]> args =
            EntryLayout.list(
                EntryLayout.bytes(sgd[1]),
                EntryLayout.bytes(Scripts.PARKING),
                EntryLayout.bytes(sgd[2]));
        args.addAll(e.getValue());
        parkResponses.add(
            p.evalsha(
                Scripts.PARK.sha,
                List.of(
                    EntryLayout.bytes(sgd[0]),
                    EntryLayout.bytes(RedisSettings.delayed(sgd[0], sgd[1]))),
                args));
      }
      for (Op op : singles) {
        if (op instanceof Attempts a) {
          singleResponses.add(
              p.sendCommand(
                  Command.XCLAIM,
                  a.stream,
                  a.group,
                  a.consumer,
                  "0",
                  a.id,
                  "RETRYCOUNT",
                  Integer.toString(a.attempts),
                  "JUSTID"));
        } else {
          DeadLetter d = (DeadLetter) op;
          List<byte[]> args = EntryLayout.list(EntryLayout.bytes(d.group), EntryLayout.bytes(d.id));
          EntryLayout.appendFields(d.message, args);
          singleResponses.add(
              p.evalsha(
                  Scripts.DEAD_LETTER.sha,
                  List.of(EntryLayout.bytes(d.dlqStream), EntryLayout.bytes(d.stream)),
                  args));
        }
      }
      p.sync();
    }
    List<Op> again = new ArrayList<>();
    boolean reload = false;
    int i = 0;
    for (Map.Entry<String, List<byte[]>> e : parks.entrySet()) {
      try {
        parkResponses.get(i++).get();
      } catch (JedisNoScriptException ex) {
        reload = true;
        String[] sgd = e.getKey().split("\n", 3);
        for (byte[] id : e.getValue()) {
          again.add(new Park(sgd[0], sgd[1], EntryLayout.string(id), Long.parseLong(sgd[2])));
        }
      } catch (JedisDataException ex) {
        // NOGROUP after a server restart: the group and its pending entries are gone, nothing left
        // to park.
        LOG.log(System.Logger.Level.DEBUG, "park failed: " + ex.getMessage());
      }
    }
    for (int j = 0; j < singles.size(); j++) {
      Op op = singles.get(j);
      try {
        singleResponses.get(j).get();
        if (op instanceof DeadLetter d) {
          d.done.complete(null);
        }
      } catch (JedisNoScriptException ex) {
        reload = true;
        again.add(op);
      } catch (RuntimeException ex) {
        if (op instanceof DeadLetter d) {
          d.done.completeExceptionally(
              RedisErrors.map(ex, "dead-letter to '" + d.dlqStream + "'", backend.settings));
        }
      }
    }
    if (reload) {
      Raw.call(backend.redis, Command.SCRIPT, EntryLayout.bytes("LOAD"), Scripts.PARK.source);
      Raw.call(
          backend.redis, Command.SCRIPT, EntryLayout.bytes("LOAD"), Scripts.DEAD_LETTER.source);
    }
    return again;
  }

  private void fail(List<Op> batch, RuntimeException e) {
    if (batch.isEmpty()) {
      return;
    }
    for (Op op : batch) {
      if (op instanceof DeadLetter d) {
        d.done.completeExceptionally(
            RedisErrors.map(e, "dead-letter to '" + d.dlqStream + "'", backend.settings));
      }
    }
  }

  /** Sends what is queued (one try if the server is gone), then stops the thread. */
  void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(backend.settings.timeout().toMillis() * 2 + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
