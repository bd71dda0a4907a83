package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exclusive locks on files, across processes (the operating system's locks, released when the
 * process dies — no PID checks, which break in containers) and within this JVM (where OS locks are
 * per process, so this registry decides).
 *
 * <p>Thread-safe.
 */
final class FileLocks {
  private static final ConcurrentHashMap<Path, Held> HELD = new ConcurrentHashMap<>();

  private FileLocks() {}

  /** A lock this JVM holds. Release it exactly once. */
  static final class Held implements AutoCloseable {
    final Path path;
    private final FileChannel channel;
    private final FileLock lock;

    private Held(Path path, FileChannel channel, FileLock lock) {
      this.path = path;
      this.channel = channel;
      this.lock = lock;
    }

    @Override
    public void close() {
      HELD.remove(path, this);
      try {
        lock.release();
      } catch (IOException e) {
        // the channel close below releases it too
      }
      try {
        channel.close();
      } catch (IOException e) {
        // nothing left to do: the OS releases the lock with the descriptor
      }
    }
  }

  /**
   * Takes the lock on {@code file} (creating it), or returns null when this or another process
   * holds it.
   */
  static Held tryLock(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    if (HELD.containsKey(key)) {
      return null;
    }
    synchronized (FileLocks.class) {
      if (HELD.containsKey(key)) {
        return null;
      }
      FileChannel ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        ch.close();
        return null;
      }
      Held h = new Held(key, ch, lock);
      HELD.put(key, h);
      return h;
    }
  }

  /** True when some process (this one included) holds the lock on {@code file}. */
  static boolean isHeld(Path file) throws IOException {
    Held probe = tryLock(file);
    if (probe == null) {
      return true;
    }
    probe.close();
    return false;
  }
}
