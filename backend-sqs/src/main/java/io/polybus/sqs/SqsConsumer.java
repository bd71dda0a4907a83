package io.polybus.sqs;

import io.polybus.Message;
import io.polybus.spi.BackendConsumer;
import io.polybus.spi.ConsumerSpec;
import io.polybus.spi.InboundRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResultEntry;

/**
 * One member of a group: receives from the group's queue on the runtime's poll thread.
 *
 * <p>A received message is leased for the visibility timeout, which is {@code ackTimeout} rounded
 * up to whole seconds (SQS's unit). While the member keeps polling, the {@link Settler} extends
 * each unsettled message again once a third of its timeout is used, so a slow handler keeps it; a
 * member that stops polling for longer than its liveness window stops extending and SQS hands its
 * messages to another member after the timeout. SQS caps a message's invisibility at 12 hours from
 * its receive; beyond that it is handed out again.
 *
 * <p>On close, every unsettled record goes back to the group. In standard mode one that no handler
 * started ({@link Record#markNotHandled()}) goes back uncounted, as a copy: see {@link #close()}.
 *
 * <p>Threading: {@link #poll} on one thread at a time; {@link #wakeup()}, {@link #close()} and the
 * records' settling methods from any thread.
 */
final class SqsConsumer implements BackendConsumer {
  private static final System.Logger LOG = System.getLogger("io.polybus.sqs");

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
    // The runtime polls at least every ackTimeout / 3; one poll may itself wait a long-poll and a
    // call's timeout.
    this.livenessNanos =
        Math.max(
            spec.ackTimeout().toNanos(),
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
    ReceiveMessageRequest request =
        ReceiveMessageRequest.builder()
            .queueUrl(queueUrl)
            .maxNumberOfMessages(Math.min(10, max))
            .waitTimeSeconds(waitSeconds)
            .visibilityTimeout(visibilitySeconds)
            .messageAttributeNames("All")
            .messageSystemAttributeNames(
                MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT,
                MessageSystemAttributeName.SENT_TIMESTAMP,
                MessageSystemAttributeName.MESSAGE_GROUP_ID)
            .build();
    ReceiveMessageResponse response;
    try {
      response = backend.sqs.receiveMessage(request);
    } catch (RuntimeException e) {
      if (SqsErrors.isQueueMissing(e) && !closed.get()) {
        // The queue was deleted (or the server restarted empty): the group starts again with a new
        // queue.
        try {
          queueUrl = backend.queueUrl(spec.topic(), spec.group(), true);
          return List.of();
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
      }
      throw SqsErrors.map(
          e,
          "receive from group '" + spec.group() + "' of '" + spec.topic() + "'",
          backend.settings);
    }
    lastPollNanos = System.nanoTime();
    if (!response.hasMessages() || response.messages().isEmpty()) {
      if (waitSeconds == 0 && !timeout.isZero()) {
        LockSupport.parkNanos(
            this, Math.min(timeout.toNanos(), TimeUnit.MILLISECONDS.toNanos(200)));
      }
      return List.of();
    }
    long now = System.nanoTime();
    long until = now + TimeUnit.SECONDS.toNanos(visibilitySeconds);
    List<InboundRecord> out = new ArrayList<>(response.messages().size());
    for (software.amazon.awssdk.services.sqs.model.Message m : response.messages()) {
      Map<MessageSystemAttributeName, String> sys = m.attributes();
      // SQS's count of this SQS message, plus the deliveries a copy carries from the messages it
      // replaced.
      long count =
          (long) SqsLayout.attempts(m.messageAttributes())
              + Math.max(
                  1, parseInt(sys.get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT), 1));
      long sent = parseLong(sys.get(MessageSystemAttributeName.SENT_TIMESTAMP), -1);
      Message message;
      try {
        message =
            SqsLayout.decode(
                m.body(),
                m.messageAttributes(),
                m.messageId(),
                sent,
                sys.get(MessageSystemAttributeName.MESSAGE_GROUP_ID));
      } catch (RuntimeException e) {
        // Not decodable as Polybus wrote it (a damaged attribute, bad base64 from another client):
        // delivered as a
        // plain message, so the handler and the dead-letter topic see it instead of a receive that
        // fails forever.
        message =
            io.polybus.spi.Messages.restore(
                "sqs-" + m.messageId(),
                null,
                m.body().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                Map.of(),
                sent >= 0 ? sent : System.currentTimeMillis());
      }
      Record r =
          new Record(
              message,
              m.receiptHandle(),
              queueUrl,
              (int) Math.min(Integer.MAX_VALUE, count),
              now,
              until);
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
   * Called by the settler every heartbeat: adds a visibility extension for each unsettled record
   * whose invisibility is a third used up, unless this member has not polled within its liveness
   * window (then it looks dead, and its messages should go to another member).
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

  /**
   * Gives every unsettled record back to the group and waits, at most {@code timeout}, until SQS
   * has them.
   *
   * <p>A record given back with visibility 0 counts as delivered: its next receive raises SQS's
   * {@code ApproximateReceiveCount}, which nothing can lower. So in standard mode a record no
   * handler started ({@link Record#markNotHandled()}) is instead sent again as a copy carrying the
   * deliveries made before this one ({@link SqsLayout#ATTEMPTS} = delivery count - 1; its first
   * receive makes the count this one's again), and the original is deleted only after SQS accepted
   * the copy. A record that cannot be copied in the first half of {@code timeout} (too large with
   * the extra attribute, refused, a failed call, SQS too slow) is given back with visibility 0
   * instead: counted, never lost; the second half is for those visibility changes and the deletes.
   * FIFO mode copies nothing: a copy would go to the end of its message group, behind later
   * messages of its key.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    backend.settler.unregister(this);
    long start = System.nanoTime();
    long bound = backend.settings.timeout().toNanos();
    List<Record> unhandled = new ArrayList<>();
    for (Record r : leased) {
      if (r.notHandled && !backend.settings.fifo()) {
        unhandled.add(r);
      } else {
        r.giveBack();
      }
    }
    leased.clear();
    if (!unhandled.isEmpty()) {
      giveBackUncounted(unhandled, start + bound / 2);
    }
    backend.settler.awaitIdle(start + bound);
  }

  /**
   * Copies {@code records} in {@code SendMessageBatch} calls on the senders, then gives back what
   * was not copied.
   */
  private void giveBackUncounted(List<Record> records, long deadlineNanos) {
    // A consumer's records normally share one queue; they differ only when the queue was made again
    // meanwhile.
    Map<String, List<Record>> byQueue = new HashMap<>();
    Map<String, List<SqsLayout.Encoded>> encodedByQueue = new HashMap<>();
    int counted = 0;
    for (Record r : records) {
      SqsLayout.Encoded e = SqsLayout.encode(r.message, r.deliveryCount - 1);
      if (e.size() > backend.settings.maxMessageSize()) {
        r.giveBack(); // the extra attribute (or a re-encoding) would not fit: counted rather
        // than refused
        counted++;
        continue;
      }
      byQueue.computeIfAbsent(r.queueUrl, k -> new ArrayList<>()).add(r);
      encodedByQueue.computeIfAbsent(r.queueUrl, k -> new ArrayList<>()).add(e);
    }
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    for (Map.Entry<String, List<Record>> q : byQueue.entrySet()) {
      List<SqsLayout.Encoded> encoded = encodedByQueue.get(q.getKey());
      for (int[] c : backend.chunks(encoded)) {
        List<Record> chunk = q.getValue().subList(c[0], c[1]);
        List<SqsLayout.Encoded> chunkEncoded = encoded.subList(c[0], c[1]);
        try {
          calls.add(
              CompletableFuture.runAsync(
                  () -> copy(q.getKey(), chunk, chunkEncoded, deadlineNanos), backend.senders()));
        } catch (RejectedExecutionException e) {
          break; // the backend is closing: the rest are given back below
        }
      }
    }
    try {
      CompletableFuture.allOf(calls.toArray(new CompletableFuture<?>[0]))
          .get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // given back below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Record r : records) {
      if (r.giveBack()) {
        counted++;
      }
    }
    if (counted > 0) {
      int n = counted;
      LOG.log(
          System.Logger.Level.INFO,
          () ->
              n
                  + " of "
                  + records.size()
                  + " messages of group '"
                  + spec.group()
                  + "' on '"
                  + spec.topic()
                  + "' that no handler started were given back counted: their copies were too"
                  + " large, refused, failed or not accepted within half the timeout");
    }
  }

  /** One {@code SendMessageBatch} of copies; runs on a sender. */
  private void copy(
      String queueUrl, List<Record> records, List<SqsLayout.Encoded> encoded, long deadlineNanos) {
    long left = deadlineNanos - System.nanoTime();
    if (left <= 0) {
      return; // not started in time: given back by close
    }
    List<SendMessageBatchRequestEntry> entries = new ArrayList<>(records.size());
    for (int i = 0; i < records.size(); i++) {
      SqsLayout.Encoded e = encoded.get(i);
      entries.add(
          SendMessageBatchRequestEntry.builder()
              .id(Integer.toString(i))
              .messageBody(e.body())
              .messageAttributes(e.attributes())
              .build());
    }
    SendMessageBatchResponse response;
    try {
      // Bounded by what is left, so a slow SQS costs close no more than its deadline (the copies
      // are given back).
      response =
          backend.sqs.sendMessageBatch(
              b ->
                  b.queueUrl(queueUrl)
                      .entries(entries)
                      .overrideConfiguration(
                          o -> o.apiCallTimeout(Duration.ofNanos(Math.max(left, 1_000_000)))));
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              "copying "
                  + records.size()
                  + " unhandled messages to "
                  + QueueDirectory.queueName(queueUrl)
                  + " failed; given back counted: "
                  + e);
      return;
    }
    for (SendMessageBatchResultEntry ok : response.successful()) {
      records.get(Integer.parseInt(ok.id())).copied();
    }
    for (BatchResultErrorEntry failed : response.failed()) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              "SQS refused a copy for "
                  + QueueDirectory.queueName(queueUrl)
                  + ": "
                  + failed.code()
                  + " "
                  + failed.message()
                  + "; given back counted");
    }
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

  /**
   * One received message. Settled once; settling after the consumer closed is ignored (it was given
   * back).
   */
  final class Record implements InboundRecord {
    private final Message message;
    final String receiptHandle;
    final String queueUrl;
    private final int deliveryCount;
    final long receivedNanos;

    /**
     * When SQS makes it visible again unless extended; written by the settler thread and at
     * receive.
     */
    volatile long invisibleUntil;

    private final AtomicBoolean settled = new AtomicBoolean();

    /** No handler started this delivery (set before close, read by close). */
    private volatile boolean notHandled;

    Record(
        Message message,
        String receiptHandle,
        String queueUrl,
        int deliveryCount,
        long receivedNanos,
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
      // Whole seconds, rounded up so the delay stays a lower bound; SQS caps it at 12 hours from
      // the receive.
      long seconds = ms <= 0 ? 0 : (ms + 999) / 1000;
      long elapsed = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - receivedNanos);
      seconds = Math.min(seconds, Math.max(0, MAX_INVISIBLE_SECONDS - elapsed - 1));
      backend.settler.changeVisibility(queueUrl, receiptHandle, (int) seconds, invisibleUntil);
    }

    @Override
    public void markNotHandled() {
      if (!closed.get()) {
        notHandled = true;
      }
    }

    /**
     * Back to the group at once, on close, counted; false if it was settled (or copied) already.
     */
    boolean giveBack() {
      if (settled.compareAndSet(false, true)) {
        backend.settler.changeVisibility(queueUrl, receiptHandle, 0, invisibleUntil);
        return true;
      }
      return false;
    }

    /**
     * SQS accepted this record's copy: the original goes. When close had already given it back (the
     * copy came after the deadline) the delete is still sent, so that usually only the copy
     * remains; if another member received the original meanwhile, it is a duplicate, which standard
     * mode declares.
     */
    void copied() {
      settled.set(true);
      backend.settler.delete(queueUrl, receiptHandle, invisibleUntil);
    }

    @Override
    public String toString() {
      return "SqsRecord{" + message + ", deliveryCount=" + deliveryCount + "}";
    }
  }
}
