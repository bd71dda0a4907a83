package io.polybus.sqs;

import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * One member of a group: receives from the group's queue on the runtime's poll thread.
 *
 * <p>A received message is leased for the visibility timeout, which is {@code ackTimeout} rounded up to whole seconds
 * (SQS's unit). While the member keeps polling, the {@link Settler} extends each unsettled message again once a third
 * of its timeout is used, so a slow handler keeps it; a member that stops polling for longer than its liveness window
 * stops extending and SQS hands its messages to another member after the timeout. SQS caps a message's invisibility
 * at 12 hours from its receive; beyond that it is handed out again.
 *
 * <p>Threading: {@link #poll} on one thread at a time; {@link #wakeup()}, {@link #close()} and the records' settling
 * methods from any thread.
 */
final class SqsConsumer implements BackendConsumer {
  /** The most SQS lets a received message stay invisible, counted from its receive. */
  static final long MAX_INVISIBLE_SECONDS = 12 * 3600;

  private final SqsBackend backend;
  private final ConsumerSpec spec;
  private volatile String queueUrl;
  private final int visibilitySeconds;
  private final long livenessNanos;
  private final Set<Record> leased = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean woken;
  private volatile long lastPollNanos = System.nanoTime();

  SqsConsumer(SqsBackend backend, ConsumerSpec spec, String queueUrl) {
    this.backend = backend;
    this.spec = spec;
    this.queueUrl = queueUrl;
    long ms = spec.ackTimeout().toMillis();
    this.visibilitySeconds = (int) Math.min(MAX_INVISIBLE_SECONDS, Math.max(1, (ms + 999) / 1000));
    // The runtime polls at least every ackTimeout / 3; one poll may itself wait a long-poll and a call's timeout.
    this.livenessNanos = Math.max(spec.ackTimeout().toNanos(),
        backend.settings.longPoll().plus(backend.settings.timeout()).toNanos());
    backend.settler.register(this);
  }

  @Override
  public List<InboundRecord> poll(int max, Duration timeout) throws InterruptedException {
    lastPollNanos = System.nanoTime();
    if (closed.get() || max <= 0) {
      return List.of();
    }
    if (woken) {
      woken = false;
      return List.of();
    }
    int waitSeconds = timeout.isZero() ? 0 : (int) backend.settings.longPoll().getSeconds();
    ReceiveMessageRequest request = ReceiveMessageRequest.builder()
        .queueUrl(queueUrl)
        .maxNumberOfMessages(Math.min(10, max))
        .waitTimeSeconds(waitSeconds)
        .visibilityTimeout(visibilitySeconds)
        .messageAttributeNames("All")
        .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
            MessageSystemAttributeName.SENT_TIMESTAMP, MessageSystemAttributeName.MESSAGE_GROUP_ID)
        .build();
    ReceiveMessageResponse response;
    try {
      response = backend.sqs.receiveMessage(request);
    } catch (RuntimeException e) {
      if (SqsErrors.isQueueMissing(e) && !closed.get()) {
        // The queue was deleted (or the server restarted empty): the group starts again with a new queue.
        try {
          queueUrl = backend.queueUrl(spec.topic(), spec.group(), true);
          return List.of();
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
      }
      throw SqsErrors.map(e, "receive from group '" + spec.group() + "' of '" + spec.topic() + "'", backend.settings);
    }
    lastPollNanos = System.nanoTime();
    if (!response.hasMessages() || response.messages().isEmpty()) {
      if (waitSeconds == 0 && !timeout.isZero()) {
        LockSupport.parkNanos(this, Math.min(timeout.toNanos(), TimeUnit.MILLISECONDS.toNanos(200)));
      }
      return List.of();
    }
    long now = System.nanoTime();
    long until = now + TimeUnit.SECONDS.toNanos(visibilitySeconds);
    List<InboundRecord> out = new ArrayList<>(response.messages().size());
    for (software.amazon.awssdk.services.sqs.model.Message m : response.messages()) {
      Map<MessageSystemAttributeName, String> sys = m.attributes();
      int count = parseInt(sys.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT), 1);
      long sent = parseLong(sys.get(MessageSystemAttributeName.SENT_TIMESTAMP), -1);
      Message message;
      try {
        message = SqsLayout.decode(m.body(), m.messageAttributes(), m.messageId(), sent,
            sys.get(MessageSystemAttributeName.MESSAGE_GROUP_ID));
      } catch (RuntimeException e) {
        // Not decodable as Polybus wrote it (a damaged attribute, bad base64 from another client): delivered as a
        // plain message, so the handler and the dead-letter topic see it instead of a receive that fails forever.
        message = io.polybus.spi.Messages.restore("sqs-" + m.messageId(), null,
            m.body().getBytes(java.nio.charset.StandardCharsets.UTF_8), Map.of(), sent >= 0 ? sent
                : System.currentTimeMillis());
      }
      Record r = new Record(message, m.receiptHandle(), queueUrl, Math.max(1, count), now, until);
      leased.add(r);
      out.add(r);
    }
    if (closed.get()) {
      // Received while closing: straight back to the group.
      for (InboundRecord r : out) {
        ((Record) r).giveBack();
      }
      return List.of();
    }
    return out;
  }

  /**
   * Called by the settler every heartbeat: adds a visibility extension for each unsettled record whose invisibility
   * is a third used up, unless this member has not polled within its liveness window (then it looks dead, and its
   * messages should go to another member).
   */
  void collectExtensions(long now, List<Settler.Op> into) {
    if (closed.get() || now - lastPollNanos > livenessNanos) {
      return;
    }
    long visibilityNanos = TimeUnit.SECONDS.toNanos(visibilitySeconds);
    for (Record r : leased) {
      if (r.invisibleUntil - now < visibilityNanos * 2 / 3) {
        long leftOfCap = r.receivedNanos + TimeUnit.SECONDS.toNanos(MAX_INVISIBLE_SECONDS) - now;
        int seconds = (int) Math.min(visibilitySeconds, TimeUnit.NANOSECONDS.toSeconds(leftOfCap));
        if (seconds <= 0) {
          continue;
        }
        r.invisibleUntil = now + TimeUnit.SECONDS.toNanos(seconds);
        into.add(new Settler.Op(r.queueUrl, r.receiptHandle, seconds, r.invisibleUntil));
      }
    }
  }

  @Override
  public void wakeup() {
    woken = true;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    backend.settler.unregister(this);
    for (Record r : leased) {
      r.giveBack();
    }
    leased.clear();
    backend.settler.awaitIdle(System.nanoTime() + backend.settings.timeout().toNanos());
  }

  private static int parseInt(String s, int dflt) {
    try {
      return s == null ? dflt : Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  private static long parseLong(String s, long dflt) {
    try {
      return s == null ? dflt : Long.parseLong(s);
    } catch (NumberFormatException e) {
      return dflt;
    }
  }

  @Override
  public String toString() {
    return "SqsConsumer{" + QueueDirectory.queueName(queueUrl) + ", leased=" + leased.size() + "}";
  }

  /** One received message. Settled once; settling after the consumer closed is ignored (it was given back). */
  final class Record implements InboundRecord {
    private final Message message;
    final String receiptHandle;
    final String queueUrl;
    private final int deliveryCount;
    final long receivedNanos;
    /** When SQS makes it visible again unless extended; written by the settler thread and at receive. */
    volatile long invisibleUntil;
    private final AtomicBoolean settled = new AtomicBoolean();

    Record(Message message, String receiptHandle, String queueUrl, int deliveryCount, long receivedNanos,
        long invisibleUntil) {
      this.message = message;
      this.receiptHandle = receiptHandle;
      this.queueUrl = queueUrl;
      this.deliveryCount = deliveryCount;
      this.receivedNanos = receivedNanos;
      this.invisibleUntil = invisibleUntil;
    }

    @Override
    public Message message() {
      return message;
    }

    @Override
    public int deliveryCount() {
      return deliveryCount;
    }

    private boolean settle() {
      if (closed.get() || !settled.compareAndSet(false, true)) {
        return false;
      }
      leased.remove(this);
      return true;
    }

    @Override
    public void ack() {
      if (settle()) {
        backend.settler.delete(queueUrl, receiptHandle, invisibleUntil);
      }
    }

    @Override
    public void release(Duration delay) {
      if (!settle()) {
        return;
      }
      long ms = delay.toMillis();
      // Whole seconds, rounded up so the delay stays a lower bound; SQS caps it at 12 hours from the receive.
      long seconds = ms <= 0 ? 0 : (ms + 999) / 1000;
      long elapsed = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - receivedNanos);
      seconds = Math.min(seconds, Math.max(0, MAX_INVISIBLE_SECONDS - elapsed - 1));
      backend.settler.changeVisibility(queueUrl, receiptHandle, (int) seconds, invisibleUntil);
    }

    /** Back to the group at once, on close. */
    void giveBack() {
      if (settled.compareAndSet(false, true)) {
        backend.settler.changeVisibility(queueUrl, receiptHandle, 0, invisibleUntil);
      }
    }

    @Override
    public String toString() {
      return "SqsRecord{" + message + ", deliveryCount=" + deliveryCount + "}";
    }
  }
}
