package io.polybus.nativelog.internal;

import io.polybus.Message;
import java.nio.file.Path;

/** A child JVM for multi-process tests: appends N records to segment 0 of the given directory. */
public final class SegmentAppendChild {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int n = Integer.parseInt(args[1]);
    try (Segment s = Segment.createOrOpen(dir, 0, 32 << 20)) {
      RecordCodec c = new RecordCodec();
      for (int i = 0; i < n; i++) {
        Message m = Message.builder().key("child").payload("child:" + i).build();
        c.encode(m);
        if (s.append(c, m.timestampMillis()) < 0) {
          throw new IllegalStateException("segment full at " + i);
        }
      }
    }
  }
}
