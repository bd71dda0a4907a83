package io.polybus.nativelog.internal;

import io.polybus.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One topic of a log directory: its partitions, fixed at creation in {@code topic.meta}.
 * Thread-safe.
 *
 * <p>A message with a key goes to partition {@code floorMod(murmur3(key), partitions)}, so a key
 * always lands in the same partition; one without a key is spread round-robin.
 */
final class LogTopic implements AutoCloseable {
  private static final ThreadLocal<RecordCodec> CODEC = ThreadLocal.withInitial(RecordCodec::new);

  final String name;
  final Path dir;
  final Partition[] partitions;
  private final AtomicInteger roundRobin = new AtomicInteger();

  /**
   * Readers of this process wait here for appends of this process; appends by other processes are
   * polled for.
   */
  private final Object appended = new Object();

  private long appendCount;

  private LogTopic(String name, Path dir, Partition[] partitions) {
    this.name = name;
    this.dir = dir;
    this.partitions = partitions;
  }

  static LogTopic open(Path dir, String name, int partitions, int segmentBytes) throws IOException {
    Files.createDirectories(dir);
    Path meta = dir.resolve("topic.meta");
    if (!Files.exists(meta)) {
      Properties p = new Properties();
      p.setProperty("partitions", Integer.toString(partitions));
      p.setProperty("segmentBytes", Integer.toString(segmentBytes));
      Path tmp = dir.resolve(".tmp-" + UUID.randomUUID());
      try {
        try (var out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
          p.store(out, "Polybus topic " + name + ": fixed at creation");
        }
        Files.createLink(meta, tmp); // never replaces: the first creator's settings win
      } catch (FileAlreadyExistsException e) {
        // created concurrently by another process or thread
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    Properties p = new Properties();
    try (var in = Files.newBufferedReader(meta, StandardCharsets.UTF_8)) {
      p.load(in);
    }
    int count;
    int bytes;
    try {
      count = Integer.parseInt(p.getProperty("partitions", ""));
      bytes = Integer.parseInt(p.getProperty("segmentBytes", ""));
    } catch (NumberFormatException e) {
      throw new CorruptLogException(meta + ": unreadable topic settings " + p);
    }
    if (count < 1 || count > 1024 || bytes < 16384) {
      throw new CorruptLogException(meta + ": invalid topic settings " + p);
    }
    Partition[] parts = new Partition[count];
    for (int i = 0; i < count; i++) {
      parts[i] = Partition.open(dir.resolve(Integer.toString(i)), bytes);
    }
    return new LogTopic(name, dir, parts);
  }

  int partitionOf(String key) {
    if (key == null) {
      return Math.floorMod(roundRobin.getAndIncrement(), partitions.length);
    }
    return Math.floorMod(Murmur3.hash(key), partitions.length);
  }

  /** Appends in order; returns each message's position as {@code partition << 48 | offset}. */
  long[] append(List<Message> messages) throws IOException {
    RecordCodec codec = CODEC.get();
    long[] positions = new long[messages.size()];
    for (int i = 0; i < positions.length; i++) {
      Message m = messages.get(i);
      codec.encode(m);
      int p =
          m.key() == null ? partitionOf(null) : Math.floorMod(codec.keyHash(), partitions.length);
      long offset = partitions[p].append(codec, m.timestampMillis());
      positions[i] = (long) p << 48 | offset;
    }
    synchronized (appended) {
      appendCount++;
      appended.notifyAll();
    }
    return positions;
  }

  /**
   * Waits up to {@code nanos} for an append by this process; returns at once if one happened since
   * {@code seen}.
   */
  long awaitAppend(long seen, long nanos) throws InterruptedException {
    synchronized (appended) {
      if (appendCount == seen && nanos > 0) {
        appended.wait(Math.max(1, nanos / 1_000_000));
      }
      return appendCount;
    }
  }

  long appendCount() {
    synchronized (appended) {
      return appendCount;
    }
  }

  void wakeAll() {
    synchronized (appended) {
      appended.notifyAll();
    }
  }

  void force() {
    for (Partition p : partitions) {
      p.force();
    }
  }

  @Override
  public void close() {
    for (Partition p : partitions) {
      p.close();
    }
  }
}
