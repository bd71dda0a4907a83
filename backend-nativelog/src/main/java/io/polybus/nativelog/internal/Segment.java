package io.polybus.nativelog.internal;

import static io.polybus.nativelog.internal.SegmentDescriptor.*;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32C;

/**
 * One segment file of a partition: a preallocated, memory-mapped region that any number of threads
 * and processes append frames to without a lock (see {@link SegmentDescriptor} for the layout and
 * the commit protocol).
 *
 * <p>Thread-safe; the mapping is shared by every thread of the process. Closing unmaps nothing
 * explicitly (the JDK unmaps when the buffer is collected), so a reader that still holds the
 * segment never faults.
 *
 * <h2>A file truncated under the mapping</h2>
 *
 * Polybus never shrinks a segment, but something else may (a copy tool, {@code truncate}, an
 * operator's {@code > file}). An access to a page past the new end of file raises SIGBUS. HotSpot
 * survives it for the plain and ordered accesses of the view VarHandles and for bulk copies, in
 * interpreted and compiled code, and for compare-and-set in compiled code: the access is skipped (a
 * load yields garbage) and an {@link InternalError} ("a fault occurred in a recent unsafe memory
 * access") is thrown <em>later</em>, when the thread next checks for asynchronous exceptions. An
 * <em>interpreted</em> compare-and-set runs in the VM without that guard, and the JVM dies (JDK 17:
 * a warm-up of 100 appends, then a truncation, then an append, killed the JVM; so did any append
 * under {@code -Xint}). So:
 *
 * <ul>
 *   <li>Every compare-and-set of the mapping comes after a plain or ordered access of the same
 *       word, then {@link #raisePendingFault()}, which makes an interpreted thread throw the error
 *       then, before the CAS. Truncation removes a suffix of the file, so an address past a
 *       faulting one faults too: no access computed from a faulted (garbage) value lands in a page
 *       that is still there.
 *   <li>The compare-and-set loop that cannot afford a read per page (the pre-touch at open) checks
 *       the file size every {@link #SPARE_SLICE}; a spare is private to its process until linked,
 *       so it is touched with plain stores.
 * </ul>
 *
 * {@link #checkSize()} (one fstat) finds a truncation before anything touches it: at open, when a
 * spare is installed, at each force, and at each health check; the callers of the log (publish,
 * poll, subscribe) turn an {@code InternalError} that surfaces anyway into an I/O failure naming
 * the file. From then on the segment is {@linkplain #requireIntact() refused} without its mapping
 * being touched. A size check per append would put a system call on the hot path, so a truncation
 * between two checks is met by the first access past the end.
 */
final class Segment implements AutoCloseable {
  private static final VarHandle LONGS =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INTS =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final int SEALED = 0x8000_0000;

  /** The slice of spare preparation between two yields: about a tenth of a millisecond of work. */
  private static final int SPARE_SLICE = 256 << 10;

  final Path file;
  private final FileChannel channel;
  private final MappedByteBuffer buffer;

  /**
   * The same buffer, typed as the view VarHandles' coordinate: a call with a {@code
   * MappedByteBuffer} does not match their type exactly and goes through a type adaptation on every
   * access.
   */
  private final ByteBuffer bytes;

  private final long baseOffset;
  private final int capacity;

  /**
   * This process committed frames not yet forced; lets a group commit skip every segment nobody
   * wrote to.
   */
  private volatile boolean dirty;

  /**
   * Past this position (a quarter of the segment) an append asks for the next segment to be
   * prepared in the background.
   */
  private final int spareAt;

  /** Racy on purpose: a second request while the first is under way is a no-op. */
  private boolean spareRequested;

  /**
   * Why this segment must not be touched again (its file was found shorter than its mapping), or
   * null. Written once, by whichever thread found it; read before each append and read.
   */
  private volatile String truncated;

  private Segment(
      Path file, FileChannel channel, MappedByteBuffer buffer, long baseOffset, int capacity) {
    this.file = file;
    this.channel = channel;
    this.buffer = buffer;
    this.bytes = buffer;
    this.baseOffset = baseOffset;
    this.capacity = capacity;
    this.spareAt = capacity >>> 2;
  }

  /**
   * The file name of the segment starting at {@code baseOffset}: 20 digits, so names sort by
   * offset.
   */
  static String fileName(long baseOffset) {
    return String.format("%020d.log", baseOffset);
  }

  /**
   * Creates the segment for {@code baseOffset} in {@code dir}, or opens it if another thread or
   * process created it first. The file is fully written with zeroes before it appears under its
   * name, so an append never extends a sparse file (no SIGBUS when the disk fills up: preallocation
   * fails, with an {@link IOException}).
   *
   * <p>The zero-filled, mapped and pre-touched file is normally ready already: a segment of this
   * process that is a quarter full asks a background thread to prepare the next one (a {@link
   * Spare}: three quarters of a segment's appends is the time it has, and at 2M msg/s over four
   * partitions a half left rolls waiting for it), so a roll on the publishing thread only writes a
   * header and links a name, instead of writing and faulting in the whole file (milliseconds, which
   * were the p99 of a paced publisher).
   */
  static Segment createOrOpen(Path dir, long baseOffset, int capacity) throws IOException {
    if (capacity < HEADER_SIZE * 2 || capacity % ALIGNMENT != 0) {
      throw new IllegalArgumentException(
          "segment capacity must be a multiple of 8 of at least 8192, was " + capacity);
    }
    Path target = dir.resolve(fileName(baseOffset));
    if (Files.exists(target)) {
      return open(target);
    }
    Spare spare = Spare.take(dir, capacity);
    if (spare == null) {
      spare = Spare.prepare(dir, capacity);
    }
    Segment s;
    try {
      s = spare.install(target, baseOffset);
    } catch (NoSuchFileException | CorruptLogException e) {
      // Our spare's name was deleted under us (another process took it for an orphan in the instant
      // before we
      // locked it), or something cut it short while it waited: make a fresh one.
      spare.delete();
      spare = Spare.prepare(dir, capacity);
      s = spare.install(target, baseOffset);
    }
    if (s != null) {
      return s;
    }
    Spare.giveBack(
        dir, spare); // another thread or process created it first: ours serves the next roll
    return open(target);
  }

  /**
   * Closes and deletes the spare file prepared for {@code dir}, if any; for the owner of a
   * partition that closes it (otherwise the spare stays mapped until the JVM exits, when it is
   * deleted).
   */
  static void discardSpare(Path dir) {
    Spare.discard(dir);
  }

  /** Deletes the spare files in {@code dir} whose process is gone (their lock is free). */
  static void deleteOrphanSpares(Path dir) {
    Spare.deleteOrphans(dir);
  }

  /** Opens an existing segment, checking its header. */
  static Segment open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      long size = ch.size();
      if (size < HEADER_SIZE * 2 || size > Integer.MAX_VALUE) {
        throw new CorruptLogException(file, file + ": not a Polybus segment (size " + size + ")");
      }
      MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
      buf.order(ByteOrder.LITTLE_ENDIAN);
      if (buf.getLong(MAGIC_OFFSET) != MAGIC) {
        throw new CorruptLogException(file, file + ": not a Polybus segment (bad magic)");
      }
      if (buf.getInt(VERSION_OFFSET) != VERSION || buf.getInt(HEADER_SIZE_OFFSET) != HEADER_SIZE) {
        throw new CorruptLogException(
            file, file + ": unsupported segment version " + buf.getInt(VERSION_OFFSET));
      }
      long capacity = buf.getLong(CAPACITY_OFFSET);
      if (capacity != size) {
        throw new CorruptLogException(
            file,
            file
                + ": header says "
                + capacity
                + " bytes, file has "
                + size
                + (capacity > size ? " (truncated)" : ""));
      }
      pretouch(file, ch, buf);
      return new Segment(file, ch, buf, buf.getLong(BASE_OFFSET_OFFSET), (int) capacity);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Faults every page in now, so appends and reads take no page fault. The pages not yet appended
   * to are faulted in writable: a read would map a page read-only and the first store to it would
   * fault again (the kernel's dirty tracking of a shared file mapping), so each gets a
   * compare-and-set of a zero word to zero, which changes nothing whatever another writer put
   * there, yet the processor treats as a store. Pages already written are only read, so opening a
   * segment does not mark them dirty and make the kernel write them back; a sealed segment is not
   * touched at all, so opening a partition with a long history does not read all of it.
   *
   * <p>This loop runs interpreted at first, where a compare-and-set of a page cut off by a
   * truncation kills the JVM (see the class doc). A plain read before each one would make it safe
   * and double the faults (measured ten times slower: 75 ms instead of 7 for 64 MiB), so the file
   * size is checked every {@link #SPARE_SLICE} instead: what is left is a truncation inside the
   * tens of microseconds one slice takes, at open only.
   */
  static void pretouch(Path file, FileChannel ch, MappedByteBuffer buf) throws IOException {
    ByteBuffer view = buf;
    long tail = (long) LONGS.getVolatile(view, TAIL_OFFSET);
    if ((SegmentDescriptor.tailCount(tail) & SEALED) != 0) {
      return; // nobody appends to it again; readers fault its pages in as they go (opening a long
      // log stays cheap)
    }
    int writableFrom = tailPosition(tail) & -4096;
    int sum = 0;
    int i = 0;
    for (; i < writableFrom; i += 4096) {
      sum += buf.get(i);
    }
    for (; i + 4 <= buf.capacity(); i += 4096) {
      if ((i & (SPARE_SLICE - 1)) == 0 || i == writableFrom) {
        requireSize(file, ch, Math.min(buf.capacity(), i + (long) SPARE_SLICE), buf.capacity());
      }
      INTS.compareAndSet(view, i, 0, 0);
    }
    if (sum == 42) {
      Thread.onSpinWait(); // keeps the read loop from being optimised away
    }
  }

  /**
   * Throws, naming the file, when it is shorter than {@code needed} of its {@code capacity} bytes.
   */
  private static void requireSize(Path file, FileChannel ch, long needed, long capacity)
      throws IOException {
    long size = ch.size();
    if (size < needed) {
      throw new CorruptLogException(file, truncatedMessage(file, size, capacity));
    }
  }

  private static String truncatedMessage(Path file, long size, long capacity) {
    return file
        + " was truncated to "
        + size
        + " of its "
        + capacity
        + " bytes while mapped (not by Polybus, which"
        + " never shrinks a segment); its records after byte "
        + size
        + " are lost";
  }

  /**
   * Checks that the file still spans the whole mapping (one fstat). Returns why it does not, and
   * from then on the segment is refused by {@link #requireIntact()}; null while it is whole.
   */
  String checkSize() {
    String t = truncated;
    if (t != null) {
      return t;
    }
    long size;
    try {
      size = channel.size();
    } catch (IOException e) {
      return null; // closed (retention deleted it, or the partition closes): nobody touches it
      // again
    }
    if (size < capacity) {
      truncated = t = truncatedMessage(file, size, capacity);
    }
    return t;
  }

  /** Refuses, naming the file, a segment found truncated; never touches the mapping. */
  void requireIntact() throws CorruptLogException {
    String t = truncated;
    if (t != null) {
      throw new CorruptLogException(file, t);
    }
  }

  long baseOffset() {
    return baseOffset;
  }

  int capacity() {
    return capacity;
  }

  /** The largest body one frame of this segment can hold. */
  int maxBody() {
    return capacity - HEADER_SIZE - FRAME_HEADER;
  }

  /**
   * Appends one frame. Returns its offset, or -1 when the segment is full (it is then sealed: every
   * later append returns -1 and the caller rolls to the next segment).
   */
  long append(RecordCodec record, long timestampMillis) {
    int bodyLength = record.length();
    int frameLength = align(FRAME_HEADER + bodyLength);
    if (bodyLength > maxBody()) {
      throw new IllegalArgumentException(
          "a record of " + bodyLength + " bytes does not fit a segment of " + capacity);
    }
    while (true) {
      long t = (long) LONGS.getVolatile(bytes, TAIL_OFFSET);
      raisePendingFault(); // before a CAS of the same word: the tail's page may be gone (see the
      // class doc)
      int count = SegmentDescriptor.tailCount(t); // with the sealed bit
      int position = tailPosition(t);
      if ((count & SEALED) != 0) {
        return -1;
      }
      if ((long) position + frameLength > capacity) {
        LONGS.compareAndSet(
            bytes, TAIL_OFFSET, t, SegmentDescriptor.tail(count | SEALED, position));
        continue; // re-read: sealed now, by us or by someone else
      }
      if (!LONGS.compareAndSet(
          bytes, TAIL_OFFSET, t, SegmentDescriptor.tail(count + 1, position + frameLength))) {
        continue;
      }
      // Claimed [position, position + frameLength) and frame number `count`. Publish the length
      // first, so a
      // reader that must give up on us knows how much to skip.
      INTS.setRelease(bytes, position + FRAME_LENGTH, frameLength);
      if (position > spareAt && !spareRequested) {
        spareRequested = true;
        Spare.request(file.getParent(), capacity);
      }
      long offset = baseOffset + count;
      byte[] frame = record.frame();
      ByteBuffer fb = record.view();
      fb.putInt(FRAME_BODY_LENGTH, bodyLength);
      fb.putLong(FRAME_OFFSET, offset);
      fb.putLong(FRAME_TIMESTAMP, timestampMillis);
      CRC32C crc = record.crc;
      crc.reset();
      crc.update(frame, FRAME_BODY_LENGTH, FRAME_HEADER - FRAME_BODY_LENGTH + bodyLength);
      fb.putInt(FRAME_CRC, (int) crc.getValue());
      buffer.put(position + FRAME_CRC, frame, FRAME_CRC, FRAME_HEADER - FRAME_CRC + bodyLength);
      raisePendingFault(); // the stores above faulted if the frame's page is gone: throw before its
      // CAS
      // The commit: release, so a reader that sees COMMITTED sees every byte above.
      if (INTS.compareAndSet(bytes, position + FRAME_STATE, STATE_WRITING, STATE_COMMITTED)) {
        if (!dirty) {
          dirty =
              true; // written only on the clean -> dirty edge, so the hot path mostly just reads it
        }
        return offset;
      }
      // A reader waited too long for us and padded the frame: it was never visible. Append again.
    }
  }

  /**
   * Claims a frame and publishes its length but never commits it: what a writer that dies
   * mid-append leaves behind. For crash tests only.
   */
  int claimAndAbandonForTest(int bodyLength) {
    int frameLength = align(FRAME_HEADER + bodyLength);
    while (true) {
      long t = (long) LONGS.getVolatile(bytes, TAIL_OFFSET);
      int count = SegmentDescriptor.tailCount(t);
      int position = tailPosition(t);
      if (LONGS.compareAndSet(
          bytes, TAIL_OFFSET, t, SegmentDescriptor.tail(count + 1, position + frameLength))) {
        INTS.setRelease(bytes, position + FRAME_LENGTH, frameLength);
        return position;
      }
    }
  }

  /** The tail word, for readers: where claimed space ends and whether the segment is sealed. */
  long tail() {
    return (long) LONGS.getVolatile(bytes, TAIL_OFFSET);
  }

  /** Frames claimed so far (sealed bit masked off). */
  static int tailCount(long tail) {
    return SegmentDescriptor.tailCount(tail) & ~SEALED;
  }

  static boolean isSealed(long tail) {
    return (SegmentDescriptor.tailCount(tail) & SEALED) != 0;
  }

  static int endPosition(long tail) {
    return tailPosition(tail);
  }

  int lengthAt(int position) {
    return (int) INTS.getAcquire(bytes, position + FRAME_LENGTH);
  }

  int stateAt(int position) {
    return (int) INTS.getAcquire(bytes, position + FRAME_STATE);
  }

  boolean casLength(int position, int expected, int length) {
    lengthAt(
        position); // read first, so a page that is gone faults where the JVM survives it (the class
    // doc)
    raisePendingFault();
    return INTS.compareAndSet(bytes, position + FRAME_LENGTH, expected, length);
  }

  /** Gives up on a frame that stayed in writing state too long; true if this call padded it. */
  boolean pad(int position) {
    stateAt(position); // as in casLength
    raisePendingFault();
    return INTS.compareAndSet(bytes, position + FRAME_STATE, STATE_WRITING, STATE_PADDING);
  }

  /**
   * Throws now the {@link InternalError} of an earlier access of this thread to a page a truncation
   * cut off, if the JVM recorded one. Interpreted, the allocation below is a call into the VM, and
   * the return from a VM call is where the interpreter throws pending asynchronous errors; without
   * it, the error waits while the compare-and-set that follows faults again where the JVM does not
   * survive it. Compiled code handles a faulting compare-and-set itself, and drops the unused
   * allocation: on the hot path this costs nothing once compiled.
   */
  private static void raisePendingFault() {
    byte[] unused = new byte[0];
  }

  /**
   * Reads the committed frame at {@code position} into {@code out}, verifying its CRC and bounds.
   * Returns false (and leaves {@code out} unspecified) when the frame is corrupt.
   */
  boolean read(int position, Frame out) {
    int length = lengthAt(position);
    if (length < FRAME_HEADER
        || (length & (ALIGNMENT - 1)) != 0
        || position + (long) length > capacity) {
      return false;
    }
    int bodyLength = buffer.getInt(position + FRAME_BODY_LENGTH);
    if (bodyLength < 0 || align(FRAME_HEADER + bodyLength) != length) {
      return false;
    }
    byte[] bytes = out.ensure(FRAME_HEADER + bodyLength);
    buffer.get(position, bytes, 0, FRAME_HEADER + bodyLength);
    CRC32C crc = out.crc;
    crc.reset();
    crc.update(bytes, FRAME_BODY_LENGTH, FRAME_HEADER - FRAME_BODY_LENGTH + bodyLength);
    if ((int) crc.getValue() != out.view.getInt(FRAME_CRC)) {
      return false;
    }
    out.length = length;
    out.bodyLength = bodyLength;
    out.offset = out.view.getLong(FRAME_OFFSET);
    out.timestampMillis = out.view.getLong(FRAME_TIMESTAMP);
    return true;
  }

  /**
   * Flushes the mapped pages to the device if this process committed frames since the last flush.
   * The flag is cleared before the flush, so a frame committed during it marks the segment again
   * for the next one.
   */
  void force() {
    if (dirty) {
      dirty = false;
      // An fstat next to an fsync costs nothing, and a truncation is then found within one force
      // interval (or one
      // group commit) of happening, often before a publish meets it.
      if (checkSize() == null) {
        buffer.force();
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  @Override
  public String toString() {
    return file.toString();
  }

  /**
   * A file that will become the next segment of a partition directory: zero-filled to the segment
   * capacity, mapped and pre-touched, under a temp name ({@code .spare-<uuid>.log}, which
   * partitions never read). At most one per directory per process, prepared by one background
   * daemon thread. The spare holds a lock on its file while its process lives, so a process that
   * finds an unlocked spare knows its maker died and deletes it.
   */
  private static final class Spare {
    private static final ConcurrentHashMap<Path, Pending> BY_DIR = new ConcurrentHashMap<>();
    private static final Set<Path> FILES = ConcurrentHashMap.newKeySet();
    private static final ExecutorService PREPARER =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "polybus-log-segment-preparer");
              t.setDaemon(true);
              return t;
            });

    static {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    for (Path f : FILES) {
                      try {
                        Files.deleteIfExists(f);
                      } catch (IOException e) {
                        // the next process to prepare a spare in that directory deletes it (its
                        // lock is gone)
                      }
                    }
                  },
                  "polybus-log-spare-cleanup"));
    }

    final Path tmp;
    final FileChannel channel;
    final FileLock lock;
    final MappedByteBuffer buffer;
    final int capacity;

    private Spare(
        Path tmp, FileChannel channel, FileLock lock, MappedByteBuffer buffer, int capacity) {
      this.tmp = tmp;
      this.channel = channel;
      this.lock = lock;
      this.buffer = buffer;
      this.capacity = capacity;
    }

    private static Path key(Path dir) {
      return dir.toAbsolutePath().normalize();
    }

    /**
     * A spare asked for: queued for the preparer, being prepared (by the preparer, or by a roll
     * that found it still queued), or done. Exactly one thread prepares it: the one that claims it.
     */
    private static final class Pending {
      final Path dir;
      final int capacity;
      final AtomicBoolean claimed = new AtomicBoolean();
      final CompletableFuture<Spare> result = new CompletableFuture<>();

      /**
       * A roll waits for this spare: its preparer stops yielding its core between slices, since the
       * publisher it would yield to is the one waiting.
       */
      volatile boolean awaited;

      Pending(Path dir, int capacity) {
        this.dir = dir;
        this.capacity = capacity;
      }

      static Pending done(Spare s) {
        Pending p = new Pending(null, s.capacity);
        p.claimed.set(true);
        p.result.complete(s);
        return p;
      }

      /** Prepares the spare on this thread unless another claimed it first; false if one did. */
      boolean runIfUnclaimed() {
        if (!claimed.compareAndSet(false, true)) {
          return false;
        }
        try {
          result.complete(prepare(dir, capacity, this));
        } catch (IOException | RuntimeException e) {
          result.completeExceptionally(e); // the roll then prepares one itself and reports it
        } catch (Error e) {
          result.completeExceptionally(e);
          throw e;
        }
        return true;
      }

      /** Between slices of preparing: lets other threads of a busy machine run, unless awaited. */
      void pause() {
        if (!awaited) {
          Thread.yield();
        }
      }
    }

    /** Starts preparing a spare for {@code dir} unless one is ready or under way. */
    static void request(Path dir, int capacity) {
      BY_DIR.computeIfAbsent(
          key(dir),
          k -> {
            Pending p = new Pending(dir, capacity);
            PREPARER.execute(p::runIfUnclaimed);
            return p;
          });
    }

    /**
     * The spare for {@code dir}, waiting for it if it is under way; null if there is none (or it
     * failed).
     */
    static Spare take(Path dir, int capacity) {
      Pending p = BY_DIR.remove(key(dir));
      if (p == null) {
        return null;
      }
      // Still queued (the one preparer thread serves every directory, in turn): prepared here, now,
      // rather than after the others; under way: finished without yielding to the waiting roll.
      if (!p.result.isDone() && !p.runIfUnclaimed()) {
        p.awaited = true;
      }
      Spare s;
      try {
        s = p.result.join();
      } catch (RuntimeException e) {
        return null;
      }
      if (s.capacity != capacity) {
        s.delete();
        return null;
      }
      return s;
    }

    static void giveBack(Path dir, Spare s) {
      if (BY_DIR.putIfAbsent(key(dir), Pending.done(s)) != null) {
        s.delete();
      }
    }

    static void discard(Path dir) {
      Pending p = BY_DIR.remove(key(dir));
      if (p != null) {
        if (p.claimed.compareAndSet(false, true)) {
          p.result.cancel(false); // never started: nothing to delete
        } else {
          p.result.thenAccept(Spare::delete);
        }
      }
    }

    /** Zero-fills, locks, maps and pre-touches a new spare file in {@code dir}. */
    static Spare prepare(Path dir, int capacity) throws IOException {
      return prepare(dir, capacity, null);
    }

    /**
     * As {@link #prepare(Path, int)}; {@code pending} is the request this serves (null when a roll
     * prepares for itself, and does not yield: it is the one waiting).
     */
    private static Spare prepare(Path dir, int capacity, Pending pending) throws IOException {
      deleteOrphans(dir);
      Path tmp = dir.resolve(".spare-" + UUID.randomUUID() + ".log");
      FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE_NEW,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      FILES.add(tmp);
      try {
        // Locked at once and held until the channel closes or the process dies: tells other
        // processes this spare
        // is alive, so they do not delete it as an orphan.
        FileLock lock = ch.tryLock();
        // Tens of milliseconds of work for a large segment, on a machine whose cores the publisher
        // and consumers
        // want: done in slices with a yield between them, so a thread that wakes on this core runs
        // at once.
        ByteBuffer zeros = ByteBuffer.allocateDirect(SPARE_SLICE);
        long written = 0;
        while (written < capacity) {
          zeros.clear().limit((int) Math.min(SPARE_SLICE, capacity - written));
          written += ch.write(zeros, written);
          if (pending != null) {
            pending.pause();
          }
        }
        MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_WRITE, 0, capacity);
        buf.order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer view = buf;
        for (int i = 0; i + 4 <= capacity; i += 4096) {
          // A plain store of zero faults each page in writable, as pretouch()'s compare-and-set
          // does: nobody else
          // writes a spare, and a plain store to a page a truncation cut off is an InternalError,
          // never a crash.
          INTS.set(view, i, 0);
          if ((i & (SPARE_SLICE - 1)) == 0 && pending != null) {
            pending.pause();
          }
        }
        return new Spare(tmp, ch, lock, buf, capacity);
      } catch (IOException | RuntimeException | Error e) {
        ch.close();
        Files.deleteIfExists(tmp);
        FILES.remove(tmp);
        throw e;
      }
    }

    /** Deletes spare files of processes that died (their lock is free). */
    private static void deleteOrphans(Path dir) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, ".spare-*.log")) {
        for (Path f : files) {
          if (FILES.contains(f)) {
            continue;
          }
          try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock != null) {
              Files.deleteIfExists(f);
            }
          } catch (OverlappingFileLockException | IOException e) {
            // alive in this JVM, or gone already
          }
        }
      } catch (IOException e) {
        // a listing failure only leaves an orphan for the next time
      }
    }

    /**
     * Writes the segment header and links the file under {@code target}; returns the new segment,
     * or null (with the header wiped again, so the spare can serve another roll) when {@code
     * target} exists already.
     */
    Segment install(Path target, long baseOffset) throws IOException {
      // A spare may wait minutes for its roll: one cut short meanwhile is refused before it is
      // touched.
      requireSize(tmp, channel, capacity, capacity);
      buffer.putLong(MAGIC_OFFSET, MAGIC);
      buffer.putInt(VERSION_OFFSET, VERSION);
      buffer.putInt(HEADER_SIZE_OFFSET, HEADER_SIZE);
      buffer.putLong(BASE_OFFSET_OFFSET, baseOffset);
      buffer.putLong(CAPACITY_OFFSET, capacity);
      buffer.putLong(CREATED_OFFSET, System.currentTimeMillis());
      buffer.putLong(TAIL_OFFSET, SegmentDescriptor.tail(0, HEADER_SIZE));
      try {
        // link(2) never replaces: exactly one creator wins. The header is in the shared page cache
        // already, so a
        // process that opens the name the moment it appears reads a whole header.
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        for (int i = 0; i < TAIL_OFFSET + 8; i += 8) {
          buffer.putLong(i, 0);
        }
        return null;
      }
      Files.deleteIfExists(tmp);
      FILES.remove(tmp);
      if (lock != null) {
        lock.release(); // a segment now: nobody looks for its lock
      }
      return new Segment(target, channel, buffer, baseOffset, capacity);
    }

    void delete() {
      try {
        channel.close();
        Files.deleteIfExists(tmp);
      } catch (IOException e) {
        // an orphan, deleted by the next process that prepares a spare there
      } finally {
        FILES.remove(tmp);
      }
    }
  }

  /** A reader's reusable frame buffer. Not thread-safe. */
  static final class Frame {
    byte[] bytes = new byte[256];
    ByteBuffer view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    final CRC32C crc = new CRC32C();
    int length;
    int bodyLength;
    long offset;
    long timestampMillis;

    byte[] ensure(int size) {
      if (bytes.length < size) {
        bytes = new byte[Math.max(size, bytes.length * 2)];
        view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      }
      return bytes;
    }

    /** The body starts here in {@link #bytes}. */
    static int bodyStart() {
      return FRAME_HEADER;
    }
  }
}
