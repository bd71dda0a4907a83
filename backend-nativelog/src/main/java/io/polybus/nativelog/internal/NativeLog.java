package io.polybus.nativelog.internal;

import io.polybus.ConfigurationException;
import io.polybus.NonTransientPolybusException;
import io.polybus.StartFrom;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An open log directory, shared by every backend of this JVM opened on the same path
 * (reference-counted), because in-process coordination (file locks, wake-ups) must be per JVM.
 * Thread-safe.
 */
final class NativeLog {
  static final String MARKER = "polybus-log";
  private static final String MARKER_CONTENT = "polybus-log 1\n";
  private static final Map<Path, NativeLog> OPEN = new HashMap<>();

  /**
   * The lock file: shared by every process that has the log open; exclusive for a recovery. The
   * marker file is locked the same way, as a second witness: the lock file can be deleted under
   * processes that hold it (their lock stays on the unlinked file, invisible to the next opener),
   * the marker cannot without the directory being refused.
   */
  static final String LOCK = "polybus-log.lock";

  final Path dir;

  /** {@link #dir} with every symbolic link resolved: no file of the log may lie outside it. */
  private final Path realDir;

  /**
   * Files of this log that cannot be used until someone fixes them (a corrupt or immutable group
   * state), with why; health is down while there is one.
   */
  private final ConcurrentHashMap<Path, String> faults = new ConcurrentHashMap<>();

  /**
   * Holds this JVM's shared lock on {@link #LOCK}; replaced when the file at the path changed.
   * Guarded by OPEN.
   */
  private FileChannel lockChannel;

  /**
   * The identity (file key) of the file {@link #lockChannel} holds; null where the file system has
   * none.
   */
  private Object lockIdentity;

  /** Holds this JVM's shared lock on {@link #MARKER}. */
  private FileChannel markerChannel;

  /** What the recovery at open found, or null when another process had the log open. */
  private Recovery.Report recovery;

  private final LogRetention retention;
  private final ScheduledExecutorService maintenance;
  private final int defaultPartitions;
  private final int segmentBytes;
  private final long stallTimeoutNanos;
  private final ConcurrentHashMap<String, LogTopic> topics = new ConcurrentHashMap<>();
  private int refs; // guarded by OPEN

  private NativeLog(
      Path dir,
      int defaultPartitions,
      int segmentBytes,
      long stallTimeoutNanos,
      LogRetention retention)
      throws IOException {
    this.dir = dir;
    this.realDir = dir.toRealPath();
    this.retention = retention;
    if (retention.limited()) {
      maintenance =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "polybus-log-retention");
                t.setDaemon(true);
                return t;
              });
      maintenance.scheduleWithFixedDelay(
          this::enforceRetention,
          retention.checkIntervalMillis(),
          retention.checkIntervalMillis(),
          TimeUnit.MILLISECONDS);
    } else {
      maintenance = null;
    }
    this.defaultPartitions = defaultPartitions;
    this.segmentBytes = segmentBytes;
    this.stallTimeoutNanos = stallTimeoutNanos;
  }

  /**
   * Opens the log at {@code dir}, or shares the instance this JVM has open there. The settings of
   * the directory as a whole (default partitions, segment size, stall timeout, retention) must then
   * be the ones it was opened with: only one can apply, and taking the first opener's silently let
   * a second bus promise payloads its segments cannot hold. A {@link ConfigurationException} names
   * the differing settings and both values.
   */
  static NativeLog acquire(
      Path dir, int partitions, int segmentBytes, long stallTimeoutNanos, LogRetention retention)
      throws IOException {
    Path key = dir.toAbsolutePath().normalize();
    synchronized (OPEN) {
      NativeLog log = OPEN.get(key);
      if (log != null) {
        log.requireSameSettings(partitions, segmentBytes, stallTimeoutNanos, retention);
      }
      if (log == null) {
        prepare(key);
        FileChannel markerChannel =
            FileChannel.open(
                key.resolve(MARKER),
                StandardOpenOption.READ,
                StandardOpenOption.WRITE); // writable: an exclusive lock needs it
        Opened lock = null;
        Recovery.Report report;
        try {
          lock = openIdentified(key.resolve(LOCK));
          report = recoverIfAlone(key, lock.channel(), markerChannel);
          // Held while this JVM has the log open (released when the channels close), so the next
          // process to open
          // it knows it is not alone.
          lock.channel().lock(0, Long.MAX_VALUE, true);
          markerChannel.lock(0, Long.MAX_VALUE, true);
        } catch (IOException | RuntimeException e) {
          if (lock != null) {
            lock.channel().close();
          }
          markerChannel.close();
          throw e;
        }
        log = new NativeLog(key, partitions, segmentBytes, stallTimeoutNanos, retention);
        log.lockChannel = lock.channel();
        log.lockIdentity = lock.identity();
        log.markerChannel = markerChannel;
        log.checkLockFile(); // replaced between our open and our lock: hold the one at the path now
        log.recovery = report;
        OPEN.put(key, log);
      }
      log.refs++;
      return log;
    }
  }

  private void requireSameSettings(
      int partitions, int segmentBytes, long stallTimeoutNanos, LogRetention retention) {
    StringBuilder diff = new StringBuilder();
    differs(diff, "partitions", defaultPartitions, partitions);
    differs(diff, "segmentSize (bytes)", this.segmentBytes, segmentBytes);
    differs(
        diff,
        "stallTimeout",
        java.time.Duration.ofNanos(this.stallTimeoutNanos),
        java.time.Duration.ofNanos(stallTimeoutNanos));
    differs(diff, "retention (ms)", this.retention.maxAgeMillis(), retention.maxAgeMillis());
    differs(diff, "retentionBytes", this.retention.maxBytes(), retention.maxBytes());
    differs(
        diff,
        "retentionCheckInterval (ms)",
        this.retention.checkIntervalMillis(),
        retention.checkIntervalMillis());
    if (diff.length() > 0) {
      throw new ConfigurationException(
          "the log at "
              + dir
              + " is open in this JVM already with other settings ("
              + diff
              + "); every bus of a JVM on one log directory must use the same partitions, segmentSize,"
              + " stallTimeout and retention settings (close the other bus first, or use its settings)");
    }
  }

  private static void differs(StringBuilder diff, String name, Object open, Object asked) {
    if (!open.equals(asked)) {
      diff.append(diff.length() == 0 ? "" : ", ")
          .append(name)
          .append(": open with ")
          .append(open)
          .append(", asked for ")
          .append(asked);
    }
  }

  /**
   * Runs {@link Recovery} when no other process has the log open (this one gets the exclusive
   * lock); returns null when another process has it open, since its writers may still be at work.
   */
  private static Recovery.Report recoverIfAlone(
      Path dir, FileChannel lockChannel, FileChannel markerChannel) throws IOException {
    FileLock exclusive = tryLock(lockChannel);
    if (exclusive == null) {
      return null;
    }
    FileLock marker = tryLock(markerChannel);
    if (marker == null) {
      exclusive.release();
      // The lock file we hold is not the one the other processes hold: it was deleted (or replaced)
      // under them.
      System.getLogger(NativeLog.class.getName())
          .log(
              System.Logger.Level.WARNING,
              "log "
                  + dir
                  + ": "
                  + LOCK
                  + " was deleted or replaced while another process has the log open (it holds the lock on "
                  + MARKER
                  + "): recovery skipped, since it is only safe with no other process; the lock file is re-created");
      return null;
    }
    try {
      Recovery.Report r = Recovery.run(dir);
      System.getLogger(NativeLog.class.getName())
          .log(
              r.foundDamage() ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
              "log " + dir + ": " + r);
      return r;
    } finally {
      marker.release();
      exclusive.release();
    }
  }

  /**
   * The exclusive lock, or null when another process (or this JVM, under another path: a link)
   * holds one.
   */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  /** An open channel on the file a path named while it was opened, with that file's identity. */
  private record Opened(FileChannel channel, Object identity) {}

  /**
   * Opens {@code file} (creating it) and makes sure the channel is on the file the path names: the
   * file's identity (its file key: device and inode) is read before the open and again after, and
   * the open is retried when they differ (another process deleted or replaced the file in between).
   * An inode is not reused while a channel holds it, so equal keys mean the channel's file is the
   * one at the path.
   */
  private static Opened openIdentified(Path file) throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        Files.createFile(file);
      } catch (FileAlreadyExistsException e) {
        // the usual case
      }
      Object before = identity(file);
      FileChannel ch =
          FileChannel.open(
              file, StandardOpenOption.READ, StandardOpenOption.WRITE); // read: shared lock
      Object after = identity(file);
      if (before == null && after == null || before != null && before.equals(after)) {
        return new Opened(ch, after);
      }
      ch.close();
      if (attempt == 20) {
        throw new IOException(
            file + " keeps being deleted or replaced while this process opens it");
      }
    }
  }

  /** The file key of {@code file}, null when it does not exist or the file system has none. */
  private static Object identity(Path file) throws IOException {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /**
   * Checks that the lock file at the path is the one this JVM holds its shared lock on. When it was
   * deleted or replaced, the next opener would not see this process (the marker's lock still keeps
   * it from running recovery), so this one takes the shared lock on the file that is at the path
   * now, creating it if need be. Returns what it did, or null when nothing had to be done.
   */
  private String checkLockFile() {
    synchronized (OPEN) {
      if (lockChannel == null || !lockChannel.isOpen()) {
        return null;
      }
      Path path = dir.resolve(LOCK);
      try {
        Object now = identity(path);
        if (now != null && now.equals(lockIdentity)) {
          return null;
        }
        if (now == null && lockIdentity == null && Files.exists(path)) {
          return null; // a file system without file keys: nothing to compare
        }
        Opened fresh = openIdentified(path);
        try {
          fresh.channel().lock(0, Long.MAX_VALUE, true);
        } catch (IOException | RuntimeException e) {
          fresh.channel().close();
          throw e;
        }
        FileChannel old = lockChannel;
        lockChannel = fresh.channel();
        lockIdentity = fresh.identity();
        old.close();
        String what =
            path
                + " was deleted or replaced while this process had the log open; re-created and held"
                + " again (a process that opened the log meanwhile did not run recovery: the lock on "
                + MARKER
                + " told it it was not alone)";
        System.getLogger(NativeLog.class.getName())
            .log(System.Logger.Level.WARNING, "log " + dir + ": " + what);
        return what;
      } catch (IOException e) {
        return path + " was deleted or replaced and cannot be re-created: " + e;
      }
    }
  }

  /**
   * Creates the directory and its marker, or checks that an existing directory is a Polybus log.
   */
  private static void prepare(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path marker = dir.resolve(MARKER);
    if (!Files.exists(marker)) {
      boolean foreign = false;
      try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
        for (Path p : s) {
          String name = p.getFileName().toString();
          // A process creating the log at the same time leaves only its temp marker before the
          // marker itself.
          foreign |= !name.startsWith(".tmp-") && !name.equals(MARKER);
        }
      }
      if (foreign && !Files.exists(marker)) {
        throw new ConfigurationException(
            "'"
                + dir
                + "' is not a Polybus log directory (it has files but no '"
                + MARKER
                + "' marker); use an empty or new directory");
      }
      // Written whole under a temp name and linked into place, so nobody ever reads a half-written
      // marker.
      Path tmp = dir.resolve(".tmp-" + java.util.UUID.randomUUID());
      try {
        Files.writeString(tmp, MARKER_CONTENT, StandardCharsets.UTF_8);
        Files.createLink(marker, tmp);
      } catch (FileAlreadyExistsException e) {
        // another process made it at the same time
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    String content = Files.readString(marker, StandardCharsets.UTF_8);
    if (!content.equals(MARKER_CONTENT)) {
      throw new ConfigurationException(
          "'" + dir + "' has a '" + MARKER + "' marker of an unknown format: " + content.strip());
    }
    Files.createDirectories(dir.resolve("topics"));
  }

  void release() {
    synchronized (OPEN) {
      if (--refs == 0) {
        OPEN.remove(dir);
        try {
          lockChannel.close(); // releases the shared locks
          markerChannel.close();
        } catch (IOException e) {
          // the lock goes with the descriptor anyway
        }
        if (maintenance != null) {
          maintenance.shutdownNow();
          try {
            maintenance.awaitTermination(
                10, TimeUnit.SECONDS); // no deletion runs while the topics close
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        topics.values().forEach(LogTopic::close);
      }
    }
  }

  /** Deletes what the retention limits say should go, in every topic this process has open. */
  int enforceRetention() {
    int deleted = 0;
    long now = System.currentTimeMillis();
    for (LogTopic t : topics.values()) {
      for (Partition p : t.partitions) {
        try {
          deleted +=
              p.enforceRetention(
                  retention.maxAgeMillis(), retention.maxBytes(), now, stallTimeoutNanos);
        } catch (InternalError e) {
          mappedAccessFailed(t.name, e); // a segment cut short under its mapping: health names it
        } catch (IOException | RuntimeException e) {
          // Retried at the next check; appends and reads do not depend on it.
          System.getLogger(NativeLog.class.getName())
              .log(
                  System.Logger.Level.WARNING,
                  "log " + dir + ": retention of " + p.dir + " failed, retrying later: " + e);
        }
      }
    }
    return deleted;
  }

  /**
   * Up while the directory is writable and its file system has room for at least one more segment
   * (segments are preallocated whole, so with less the next roll of any partition fails); the
   * detail says how much room and what the recovery at open found. Down while a file of the log
   * cannot be used: a group state (until it is used successfully again) or a segment found shorter
   * than its mapping (every open segment's size is checked here, one fstat each; until the log is
   * opened again).
   */
  io.polybus.Health health() {
    String lockFile = checkLockFile();
    checkSegmentSizes(null);
    try {
      Path probe = Files.createTempFile(dir, ".health-", ".tmp");
      Files.delete(probe);
      long free = Files.getFileStore(dir).getUsableSpace();
      String detail =
          "log "
              + dir
              + ": "
              + topics.size()
              + " topics open, "
              + (free >> 20)
              + " MiB free"
              + (recovery == null ? "" : "; at open, " + recovery)
              + (lockFile == null ? "" : "; " + lockFile);
      if (!faults.isEmpty()) {
        return io.polybus.Health.down(detail + "; " + String.join("; ", faults.values()));
      }
      if (free < segmentBytes) {
        return io.polybus.Health.down(
            detail
                + "; less than one segment ("
                + (segmentBytes >> 20)
                + " MiB) free: the next segment cannot be created");
      }
      return io.polybus.Health.up(detail);
    } catch (IOException e) {
      return io.polybus.Health.down("log " + dir + " is not writable: " + e);
    }
  }

  Recovery.Report recovery() {
    return recovery;
  }

  long stallTimeoutNanos() {
    return stallTimeoutNanos;
  }

  LogTopic topic(String name) throws IOException {
    LogTopic t = topics.get(name);
    if (t != null) {
      return t;
    }
    synchronized (topics) {
      t = topics.get(name);
      if (t == null) {
        Path topicDir = dir.resolve("topics").resolve(name);
        requireInside(dir.resolve("topics"));
        requireEntriesInside(topicDir);
        t = LogTopic.open(topicDir, name, defaultPartitions, segmentBytes);
        topics.put(name, t);
      }
      return t;
    }
  }

  Path groupDir(String topic, String group) {
    return dir.resolve("topics").resolve(topic).resolve("groups").resolve(group);
  }

  /**
   * Each partition's records that {@code group} has not settled, by partition id: the partition's
   * end minus the group's committed offset (or the oldest record retained, when retention passed
   * it), less the records acked above it; read from the group's state files, which every member
   * writes in place as it settles, so the figure is exact at once. A partition without a state (the
   * group was never created) counts 0. Null when the topic does not exist: it is not created. A
   * claimed frame whose writer died, and a corrupt one, count until the group reads past them.
   */
  java.util.Map<String, Long> lag(String topicName, String group) throws IOException {
    LogTopic t = topics.get(topicName);
    if (t == null) {
      if (!Files.exists(dir.resolve("topics").resolve(topicName).resolve("topic.meta"))) {
        return null;
      }
      t = topic(topicName);
    }
    Path g = groupDir(topicName, group);
    java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
    for (int p = 0; p < t.partitions.length; p++) {
      Partition part = t.partitions[p];
      // The end first: a record appended and settled after it is read leaves the figure at 0.
      long end = part.endOffset();
      Path state = g.resolve("p" + p + ".state");
      long n = GroupState.unsettled(state, part.first().baseOffset(), end);
      out.put(Integer.toString(p), Math.max(0, n));
    }
    return out;
  }

  /** Creates the group's state for every partition, at the start or the end of each. Idempotent. */
  void ensureGroup(String topicName, String group, StartFrom startFrom) throws IOException {
    LogTopic topic = topic(topicName);
    Path g = groupDir(topicName, group);
    requireInside(g.getParent());
    requireEntriesInside(g);
    Files.createDirectories(g.resolve("members"));
    for (int p = 0; p < topic.partitions.length; p++) {
      Path state = g.resolve("p" + p + ".state");
      if (Files.exists(state)) {
        continue;
      }
      Partition part = topic.partitions[p];
      long start =
          switch (startFrom.kind()) {
            case EARLIEST -> part.first().baseOffset();
            case LATEST -> part.endOffset();
            case TIMESTAMP -> part.offsetAt(startFrom.timestampMillis(), stallTimeoutNanos);
            case OFFSET ->
                Math.min(part.endOffset(), Math.max(part.first().baseOffset(), startFrom.offset()));
          };
      GroupState.create(state, start);
    }
    // Checked here too, not only when a member takes a partition, so that subscribe itself fails on
    // a state that
    // cannot be used instead of a poll loop failing later.
    for (int p = 0; p < topic.partitions.length; p++) {
      Path state = g.resolve("p" + p + ".state");
      try {
        GroupState.check(state);
      } catch (IOException e) {
        if (needsFixing(e)) {
          throw fault(state, e);
        }
        throw e;
      }
      faultCleared(state);
    }
  }

  /**
   * Whether a failure to use a file of the log will repeat until someone changes the file: it is
   * not what Polybus wrote, it is gone, or the file system refuses to write it (permissions, the
   * immutable flag, a read-only mount). Other I/O errors (too many open files, an I/O error of the
   * device) may pass, and are reported as transient.
   */
  static boolean needsFixing(IOException e) {
    if (e instanceof CorruptLogException
        || e instanceof AccessDeniedException
        || e instanceof NoSuchFileException) {
      return true;
    }
    String reason = e instanceof FileSystemException f ? String.valueOf(f.getReason()) : "";
    return reason.contains("not permitted")
        || reason.contains("Read-only")
        || reason.contains("directory");
  }

  /**
   * Records that {@code file} cannot be used (health is down until it can again) and returns the
   * exception to throw: non-transient, since retrying without changing the file fails the same way.
   */
  NonTransientPolybusException fault(Path file, IOException e) {
    return fault(file, e, "fix it, or move it away to start that group afresh on that partition");
  }

  private NonTransientPolybusException fault(Path file, Throwable e, String remedy) {
    String what = "log " + dir + ": " + file + " cannot be used (" + e + "); " + remedy;
    if (!what.equals(faults.put(file, what))) { // once, not at every publish or poll that meets it
      System.getLogger(NativeLog.class.getName()).log(System.Logger.Level.ERROR, what);
    }
    return new NonTransientPolybusException(what, e);
  }

  /** What to do about a segment that cannot be used. */
  private static final String SEGMENT_REMEDY =
      "stop every process using the log and open it again: recovery extends"
          + " a truncated segment back with zeroes (the records in the lost part are gone); a segment whose header is"
          + " damaged must be moved out of the log directory";

  /**
   * The exception for an I/O failure of the log: a {@link CorruptLogException} naming a segment is
   * a fault (health down naming the file, non-transient: the segment stays unusable until the log
   * is opened again); any other is transient, described by {@code what}.
   */
  io.polybus.PolybusException ioFailure(IOException e, String what) {
    if (e instanceof CorruptLogException c && c.segment != null) {
      return fault(c.segment, c, SEGMENT_REMEDY);
    }
    return new io.polybus.BrokerUnavailableException(what + ": " + e, e);
  }

  /**
   * The exception for an {@link InternalError} met while touching the mappings of {@code topicName}
   * (every topic when null or not open): the JVM's report of a fault on a mapped page, which it
   * raises asynchronously, so the segment it came from is found by checking the size of every open
   * segment. A segment cut short is a fault as in {@link #ioFailure}; with none, a fault that says
   * "unsafe memory access" is a device I/O error under a mapping, reported against the topic
   * (health down until the log is opened again). Any other internal error is not the log's to
   * explain and is thrown on.
   */
  io.polybus.PolybusException mappedAccessFailed(String topicName, InternalError e) {
    List<Segment> cut = checkSegmentSizes(topicName == null ? null : topics.get(topicName));
    if (!cut.isEmpty()) {
      return new NonTransientPolybusException(
          faults.get(cut.get(0).file) + " (met as: " + e + ")", e);
    }
    if (String.valueOf(e.getMessage()).contains("unsafe memory access")) {
      Path where = topicName == null ? dir : dir.resolve("topics").resolve(topicName);
      return fault(
          where,
          e,
          "a memory-mapped access to its segments faulted though none is shorter than its"
              + " mapping: an I/O error of the device? Check the system log, then open the log again");
    }
    throw e;
  }

  /**
   * Checks the size of every open segment of {@code topic} (of every topic when null); each one
   * found cut short is a fault from now on. Returns those found.
   */
  private List<Segment> checkSegmentSizes(LogTopic topic) {
    List<Segment> cut = new ArrayList<>();
    for (LogTopic t : topic == null ? topics.values() : List.of(topic)) {
      for (Partition p : t.partitions) {
        for (Segment s : p.truncatedSegments()) {
          cut.add(s);
          if (!faults.containsKey(s.file)) {
            fault(s.file, new CorruptLogException(s.file, s.checkSize()), SEGMENT_REMEDY);
          }
        }
      }
    }
    return cut;
  }

  /** {@code file} was used successfully: whatever was wrong with it is fixed. */
  void faultCleared(Path file) {
    if (!faults.isEmpty()) {
      faults.remove(file);
    }
  }

  /**
   * Refuses a path of the log whose real location is outside the log directory: a symbolic link
   * placed in the log (by mistake or not) would make it write topic settings, segments and group
   * state wherever it points. Links that stay inside the directory are allowed. A path that does
   * not exist yet is fine: the log creates it.
   */
  void requireInside(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Path real;
    try {
      real = p.toRealPath();
    } catch (NoSuchFileException e) {
      throw new ConfigurationException(
          "'"
              + p
              + "' is a symbolic link to nothing, in the log directory '"
              + dir
              + "'; remove it",
          e);
    }
    if (!real.startsWith(realDir)) {
      throw new ConfigurationException(
          "'"
              + p
              + "' leads to '"
              + real
              + "', outside the log directory '"
              + realDir
              + "': every file of a log must be inside its directory; remove the link");
    }
  }

  /** {@link #requireInside} for {@code dir} and each entry directly in it. */
  void requireEntriesInside(Path dir) throws IOException {
    requireInside(dir);
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        requireInside(p);
      }
    }
  }

  LogMember join(String topicName, String group) throws IOException {
    return new LogMember(this, topic(topicName), groupDir(topicName, group));
  }

  /** Forces every open topic to the device. */
  void forceAll() {
    topics.values().forEach(LogTopic::force);
  }

  int topicCount() {
    return topics.size();
  }
}
