package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * A group's durable progress on one partition, in a small memory-mapped file written in place (so
 * it survives a crash of the process; {@link #force()} makes it survive the machine).
 *
 * <pre>
 *   0      magic "PLBGRP01"
 *   8      committed: every offset below it is settled
 *   16     windowBase: offsets [windowBase, windowBase + WINDOW) have per-record state below, in a ring
 *          (slot = offset mod WINDOW), so moving the window never copies
 *   64     acked bitmap, WINDOW bits
 *   ...    delivery counters, WINDOW bytes (saturating at 255)
 *   ...    due times, WINDOW longs (epoch millis a released record may be redelivered at; 0 = now)
 * </pre>
 *
 * <p>Only the member that owns the partition (an exclusive file lock) writes it; within the process
 * every method must be called under the owner's lock. Not thread-safe by itself.
 */
final class GroupState implements AutoCloseable {
  static final int WINDOW = 16384;
  private static final long MAGIC = 0x3130505247424C50L; // "PLBGRP01"
  private static final int COMMITTED = 8;
  private static final int WINDOW_BASE = 16;
  private static final int ACKED = 64;
  private static final int DELIVERIES = ACKED + WINDOW / 8;
  private static final int DUE = DELIVERIES + WINDOW;
  private static final int SIZE = DUE + WINDOW * 8;

  private final FileChannel channel;
  private final MappedByteBuffer buf;

  private GroupState(FileChannel channel, MappedByteBuffer buf) {
    this.channel = channel;
    this.buf = buf;
  }

  /**
   * Creates the state starting at {@code start} unless it exists. Returns true if this call created
   * it.
   */
  static boolean create(Path file, long start) throws IOException {
    if (Files.exists(file)) {
      return false;
    }
    Path tmp = file.resolveSibling(".tmp-" + UUID.randomUUID());
    try {
      ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(0, MAGIC).putLong(COMMITTED, start).putLong(WINDOW_BASE, start);
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      try {
        Files.createLink(file, tmp);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Checks, without changing it, that {@code file} can be opened for writing and is a group state:
   * a {@link CorruptLogException} (or the file system's error) otherwise.
   */
  static void check(Path file) throws IOException {
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (ch.size() != SIZE) {
        throw new CorruptLogException(
            file + ": not a Polybus group state (size " + ch.size() + ")");
      }
      ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
        // the magic
      }
      if (b.getLong(0) != MAGIC) {
        throw new CorruptLogException(file + ": not a Polybus group state (bad magic)");
      }
    }
  }

  /**
   * The unsettled offsets in {@code [max(committed, firstRetained), end)} as the state file says,
   * read without mapping or changing it (its owner may be another member, another process): the
   * committed offset, then the acked bitmap, then the committed offset again, retried while it
   * moves (a slot is reused for the offset a window later only once the committed offset passed
   * it). Should it keep moving, the acked bits are left out: an overcount by the records acked out
   * of order, for one reading. -1 when the file does not exist.
   */
  static long unsettled(Path file, long firstRetained, long end) throws IOException {
    FileChannel ch;
    try {
      ch = FileChannel.open(file, StandardOpenOption.READ);
    } catch (java.nio.file.NoSuchFileException e) {
      return -1;
    }
    try (ch) {
      if (ch.size() != SIZE) {
        throw new CorruptLogException(
            file + ": not a Polybus group state (size " + ch.size() + ")");
      }
      ByteBuffer head = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer acked = ByteBuffer.allocate(WINDOW / 8);
      readFully(ch, head, 0);
      if (head.getLong(0) != MAGIC) {
        throw new CorruptLogException(file + ": not a Polybus group state (bad magic)");
      }
      for (int attempt = 0; ; attempt++) {
        long c = head.getLong(COMMITTED);
        readFully(ch, acked, ACKED);
        readFully(ch, head, 0);
        boolean steady = head.getLong(COMMITTED) == c;
        if (!steady && attempt < 10) {
          continue;
        }
        c = head.getLong(COMMITTED);
        long from = Math.max(c, firstRetained);
        long n = Math.max(0, end - from);
        if (steady) {
          for (long o = from; o < Math.min(end, c + WINDOW); o++) {
            int i = (int) (o & (WINDOW - 1));
            if ((acked.get(i >>> 3) & (1 << (i & 7))) != 0) {
              n--;
            }
          }
        }
        return n;
      }
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
    b.clear();
    while (b.hasRemaining()) {
      if (ch.read(b, position + b.position()) < 0) {
        throw new java.io.EOFException("group state cut short");
      }
    }
  }

  static GroupState open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      if (ch.size() != SIZE) {
        throw new CorruptLogException(
            file + ": not a Polybus group state (size " + ch.size() + ")");
      }
      MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
      b.order(ByteOrder.LITTLE_ENDIAN);
      if (b.getLong(0) != MAGIC) {
        throw new CorruptLogException(file + ": not a Polybus group state (bad magic)");
      }
      GroupState s = new GroupState(ch, b);
      long c = s.committed();
      long w = s.windowBase();
      if (w > c) {
        throw new CorruptLogException(
            file + ": inconsistent window " + w + " for committed offset " + c);
      }
      // A crash between committing and moving the window: free the slots of the offsets now below
      // it (after a
      // skip of more than a window, skipTo freed every slot before committing).
      for (long o = w; o < Math.min(c, w + WINDOW); o++) {
        s.clearSlot(o);
      }
      b.putLong(WINDOW_BASE, c);
      return s;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  long committed() {
    return buf.getLong(COMMITTED);
  }

  long windowBase() {
    return buf.getLong(WINDOW_BASE);
  }

  /** The first offset that cannot be leased yet because the window does not reach it. */
  long windowEnd() {
    return windowBase() + WINDOW;
  }

  /**
   * The slot of {@code offset} in a ring of {@link #WINDOW} entries, as this state's per-record
   * fields use: offsets inside one window never share a slot.
   */
  static int slot(long offset) {
    return (int) (offset & (WINDOW - 1));
  }

  /** The slot of {@code offset} in the ring of per-record state. */
  private int index(long offset) {
    long base = windowBase();
    if (offset < base || offset >= base + WINDOW) {
      throw new IllegalArgumentException("offset " + offset + " outside the window at " + base);
    }
    return (int) (offset & (WINDOW - 1));
  }

  boolean isAcked(long offset) {
    if (offset < committed()) {
      return true;
    }
    int i = index(offset);
    return (buf.get(ACKED + (i >>> 3)) & (1 << (i & 7))) != 0;
  }

  /** One more delivery of {@code offset}; returns the new count. */
  int delivered(long offset) {
    int i = index(offset);
    int n = buf.get(DELIVERIES + i) & 0xff;
    if (n < 255) {
      n++;
      buf.put(DELIVERIES + i, (byte) n);
    }
    return n;
  }

  /**
   * Takes back the delivery that made the count {@code deliveries}, when nothing changed it since
   * (a count capped at 255 stays there: it no longer tells how many deliveries there were).
   */
  void undeliver(long offset, int deliveries) {
    int i = index(offset);
    int n = buf.get(DELIVERIES + i) & 0xff;
    if (n == deliveries && n > 0 && n < 255) {
      buf.put(DELIVERIES + i, (byte) (n - 1));
    }
  }

  int deliveries(long offset) {
    return buf.get(DELIVERIES + index(offset)) & 0xff;
  }

  /** Raises the delivery count to at least {@code attempts}. */
  void atLeast(long offset, int attempts) {
    int i = index(offset);
    int n = Math.min(255, Math.max(attempts, buf.get(DELIVERIES + i) & 0xff));
    buf.put(DELIVERIES + i, (byte) n);
  }

  long dueMillis(long offset) {
    return buf.getLong(DUE + index(offset) * 8);
  }

  void setDue(long offset, long epochMillis) {
    buf.putLong(DUE + index(offset) * 8, epochMillis);
  }

  /** Marks {@code offset} settled and advances the committed offset over every settled one. */
  void ack(long offset) {
    long c = committed();
    if (offset < c) {
      return;
    }
    int i = index(offset);
    buf.put(ACKED + (i >>> 3), (byte) (buf.get(ACKED + (i >>> 3)) | (1 << (i & 7))));
    long base = windowBase();
    while (c < base + WINDOW && isAckedInWindow(c)) {
      c++;
      // Committed first, then free the slot (for the offset WINDOW records later), then move the
      // window. A crash
      // in between leaves windowBase < committed, which open() repairs by freeing those slots
      // again.
      buf.putLong(COMMITTED, c);
      clearSlot(c - 1);
      buf.putLong(WINDOW_BASE, c);
    }
  }

  /**
   * Settles every offset below {@code offset} at once: the records there no longer exist (retention
   * deleted them, or they were never written). Does nothing if the committed offset is already
   * there.
   */
  void skipTo(long offset) {
    long c = committed();
    if (offset <= c) {
      return;
    }
    // Free the slots first, then commit, then move the window: open() repairs a crash at any point
    // in between.
    for (long o = windowBase(); o < Math.min(offset, windowBase() + WINDOW); o++) {
      clearSlot(o);
    }
    buf.putLong(COMMITTED, offset);
    buf.putLong(WINDOW_BASE, offset);
  }

  private void clearSlot(long offset) {
    int j = (int) (offset & (WINDOW - 1));
    buf.put(ACKED + (j >>> 3), (byte) (buf.get(ACKED + (j >>> 3)) & ~(1 << (j & 7))));
    buf.put(DELIVERIES + j, (byte) 0);
    buf.putLong(DUE + j * 8, 0);
  }

  private boolean isAckedInWindow(long offset) {
    int i = (int) (offset & (WINDOW - 1));
    return (buf.get(ACKED + (i >>> 3)) & (1 << (i & 7))) != 0;
  }

  void force() {
    buf.force();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
