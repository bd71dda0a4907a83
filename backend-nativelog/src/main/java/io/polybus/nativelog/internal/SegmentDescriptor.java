package io.polybus.nativelog.internal;

/**
 * The on-disk layout of a segment file. All numbers are little-endian; every frame starts 8-byte
 * aligned.
 *
 * <pre>
 * Segment file (preallocated to its capacity, zero-filled):
 *   0                   8                  16                 24                 32
 *   +-------------------+--------+---------+------------------+------------------+
 *   | magic "PLBSEG01"  | version| hdrSize | baseOffset       | capacity         |
 *   +-------------------+--------+---------+------------------+------------------+
 *   | createdMillis (32)| ...reserved...                                          |
 *   +-------------------+------------------------------------------------------+
 *   | TAIL (64): (claimed frame count &lt;&lt; 32) | next free byte position          |
 *   +-------------------------------------------------------------------------------+
 *   | ...reserved up to HEADER_SIZE (4096)...                                       |
 *   +-------------------------------------------------------------------------------+
 *   | frame | frame | ... | zeroes                                                   |
 *
 * Frame (FRAME_HEADER = 32 bytes, then the body, padded to 8 bytes):
 *   0        4        8        12       16                 24                 32
 *   +--------+--------+--------+--------+------------------+------------------+------ ... --+
 *   | length | state  | crc32c | bodyLen| offset           | timestampMillis  | body        |
 *   +--------+--------+--------+--------+------------------+------------------+------ ... --+
 *   length: the aligned frame length, written (CAS 0 -> length) right after the claim
 *   state : 0 being written, 1 committed (CAS 0 -> 1 with release), 2 padding (a reader gave up on a writer)
 *   crc32c: over bytes [12, 32 + bodyLen) of the frame: bodyLen, offset, timestamp and body
 * </pre>
 *
 * <p>The commit protocol (Aeron's, across processes through the shared mapping): a writer claims
 * space and a frame number by a CAS on TAIL, publishes the frame's length, writes the frame, and
 * commits it by a CAS of its state from 0 to 1. A reader that finds a claimed frame still at state
 * 0 after the stall timeout CASes it to 2 (padding) and skips it; a writer whose commit CAS then
 * fails knows its frame was revoked and appends again. So a writer that dies mid-write leaves a
 * hole that is skipped, never a record that is half there.
 */
final class SegmentDescriptor {
  static final long MAGIC = 0x3130474553424C50L; // "PLBSEG01" read as little-endian
  static final int VERSION = 1;
  static final int HEADER_SIZE = 4096;

  static final int MAGIC_OFFSET = 0;
  static final int VERSION_OFFSET = 8;
  static final int HEADER_SIZE_OFFSET = 12;
  static final int BASE_OFFSET_OFFSET = 16;
  static final int CAPACITY_OFFSET = 24;
  static final int CREATED_OFFSET = 32;
  static final int TAIL_OFFSET = 64;

  static final int FRAME_LENGTH = 0;
  static final int FRAME_STATE = 4;
  static final int FRAME_CRC = 8;
  static final int FRAME_BODY_LENGTH = 12;
  static final int FRAME_OFFSET = 16;
  static final int FRAME_TIMESTAMP = 24;
  static final int FRAME_HEADER = 32;

  static final int STATE_WRITING = 0;
  static final int STATE_COMMITTED = 1;
  static final int STATE_PADDING = 2;

  static final int ALIGNMENT = 8;

  private SegmentDescriptor() {}

  static int align(int length) {
    return (length + ALIGNMENT - 1) & -ALIGNMENT;
  }

  static long tail(int count, int position) {
    return ((long) count << 32) | (position & 0xFFFF_FFFFL);
  }

  static int tailCount(long tail) {
    return (int) (tail >>> 32);
  }

  static int tailPosition(long tail) {
    return (int) tail;
  }
}
