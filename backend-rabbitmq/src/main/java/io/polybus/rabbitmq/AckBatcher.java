package io.polybus.rabbitmq;

import com.rabbitmq.client.Channel;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Coalesces the acks of one consumer channel into {@code basic.ack multiple=true} frames, without
 * ever acking more than was settled.
 *
 * <p>Delivery tags of a channel are consecutive from 1, so everything up to {@link #floor} is
 * settled and sent, and {@link #settled} holds the settled tags above it: {@code true} for an ack
 * not sent yet, {@code false} for one already on the wire (a nack, or an ack sent alone because an
 * earlier tag is still open). A flush sends one multiple ack for the contiguous run above the
 * floor, ending at its last unsent ack: the broker requires that tag itself to be outstanding, and
 * the tags it covers are exactly those the runtime acked (nacks in the run were sent before, so
 * they are no longer outstanding). A forced flush also sends the acks above a gap one by one, so an
 * acked message never waits behind a slow one (if this member died, it would be delivered again).
 *
 * <p>Thread-safe: every method holds this object's monitor, so frames leave in the order the state
 * says. A new channel incarnation (after a connection recovery) starts again with {@link #reset()}.
 */
final class AckBatcher {
  /**
   * Unsent acks that trigger a flush from the acking thread; a timer flushes the rest within a few
   * ms.
   */
  private static final int FLUSH_AT = 64;

  private final Channel channel;
  private final TreeMap<Long, Boolean> settled = new TreeMap<>();
  private long floor;
  private int unsent;

  /**
   * The channel incarnation whose tags this state describes; settling calls of another one are
   * dropped.
   */
  private int epoch;

  AckBatcher(Channel channel) {
    this.channel = channel;
  }

  synchronized void ack(long tag, int tagEpoch) throws IOException {
    if (tagEpoch != epoch || tag <= floor || settled.containsKey(tag)) {
      return;
    }
    settled.put(tag, Boolean.TRUE);
    if (++unsent >= FLUSH_AT) {
      flush(false);
    }
  }

  /**
   * Sends a nack with requeue now; pending acks stay pending (a later multiple ack never covers
   * this tag).
   */
  synchronized void nack(long tag, int tagEpoch) throws IOException {
    if (tagEpoch != epoch || tag <= floor || settled.containsKey(tag)) {
      return;
    }
    channel.basicNack(tag, false, true);
    settled.put(tag, Boolean.FALSE);
    advanceOverSent();
  }

  /**
   * Sends what is pending: the contiguous run as one frame, and with {@code force} every other
   * unsent ack alone.
   */
  synchronized void flush(boolean force) throws IOException {
    if (unsent == 0) {
      return;
    }
    long last = floor;
    long lastUnsent = -1;
    for (Map.Entry<Long, Boolean> e : settled.entrySet()) {
      if (e.getKey() != last + 1) {
        break;
      }
      last = e.getKey();
      if (e.getValue()) {
        lastUnsent = last;
      }
    }
    if (lastUnsent > 0) {
      channel.basicAck(lastUnsent, true);
      Iterator<Map.Entry<Long, Boolean>> it = settled.headMap(last, true).entrySet().iterator();
      while (it.hasNext()) {
        if (it.next().getValue()) {
          unsent--;
        }
        it.remove();
      }
      floor = last;
    }
    if (force && unsent > 0) {
      for (Map.Entry<Long, Boolean> e : settled.entrySet()) {
        if (e.getValue()) {
          channel.basicAck(e.getKey(), false);
          e.setValue(Boolean.FALSE);
          unsent--;
        }
      }
    }
    advanceOverSent();
  }

  /** Moves the floor over settled tags that are already on the wire. */
  private void advanceOverSent() {
    Map.Entry<Long, Boolean> e;
    while ((e = settled.firstEntry()) != null && e.getKey() == floor + 1 && !e.getValue()) {
      settled.pollFirstEntry();
      floor++;
    }
  }

  /**
   * The channel was recovered: its tags start again at 1, and what was pending died with the old
   * one.
   */
  synchronized void reset(int newEpoch) {
    epoch = newEpoch;
    settled.clear();
    floor = 0;
    unsent = 0;
  }
}
