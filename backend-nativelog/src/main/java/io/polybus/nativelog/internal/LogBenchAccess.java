package io.polybus.nativelog.internal;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Not API. Gives the benchmarks module the framing layer of the {@code log:} backend (a {@link
 * Partition} appended to and read through its package-private classes), so a benchmark can measure
 * framing, CRC32C and the copy into the mapping without the message encoding and the SPI above
 * them. It lives here, compiled and tested with the classes it opens, rather than in the benchmarks
 * module under this package's name (a split package); this package is not exported by the module
 * descriptor, so only class-path code such as the benchmarks reaches it.
 */
public final class LogBenchAccess {
  private LogBenchAccess() {}

  /** Appends opaque bodies to one partition. Not thread-safe: one per appending thread. */
  public static final class Appender implements AutoCloseable {
    private final Partition partition;
    private final RecordCodec codec = new RecordCodec();

    public Appender(Path dir, int segmentBytes) throws IOException {
      this.partition = Partition.open(dir, segmentBytes);
    }

    /** Frames {@code body} (header, CRC32C) and appends it; returns its offset. */
    public long append(byte[] body, long timestampMillis) throws IOException {
      codec.opaque(body, 0, body.length);
      return partition.append(codec, timestampMillis);
    }

    /**
     * A reader of this partition from its first offset, verifying every frame's CRC as consumers
     * do.
     */
    public Reader reader() throws IOException {
      return new Reader(partition.readerFrom(0, 2_000_000_000L));
    }

    @Override
    public void close() {
      partition.close();
    }
  }

  /** Reads frames in order. Not thread-safe. */
  public static final class Reader {
    private final PartitionReader reader;
    private final Segment.Frame frame = new Segment.Frame();

    Reader(PartitionReader reader) {
      this.reader = reader;
    }

    /**
     * Reads the next frame; returns its body length, or -1 when there is nothing more to read now.
     */
    public int next() throws IOException {
      return reader.next(frame) == SegmentReader.FRAME ? frame.bodyLength : -1;
    }

    /** The bytes of the frame read last; its body starts at {@link #bodyStart()}. */
    public byte[] bytes() {
      return frame.bytes;
    }

    public static int bodyStart() {
      return Segment.Frame.bodyStart();
    }
  }
}
