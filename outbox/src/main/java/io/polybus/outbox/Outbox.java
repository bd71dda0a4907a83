package io.polybus.outbox;

import io.polybus.Codec;
import io.polybus.Message;
import io.polybus.spi.PortableNames;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * Writes messages into an outbox table inside the caller's own JDBC transaction, so that a message
 * is published exactly when the transaction that wrote it commits, and never when it rolls back. An
 * {@link OutboxRelay} forwards the committed rows to a Polybus bus.
 *
 * <pre>{@code
 * Outbox outbox = Outbox.builder().createTable(dataSource).build();   // once, shared
 * try (Connection c = dataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   insertOrder(c, order);                                              // your own write
 *   outbox.publish(c, "orders", Message.builder().key(order.customerId()).value(codec, order).build());
 *   c.commit();                                                         // both, or neither
 * }
 * }</pre>
 *
 * <h2>What is kept</h2>
 *
 * The message's id, key, payload, timestamp and every header in insertion order, including the
 * trace context headers ({@code traceparent}, {@code tracestate}, {@code baggage}) and the codec
 * headers ({@code polybus-content-type}, {@code polybus-type}). The relay publishes the message
 * with all of them unchanged. To put the current trace context on messages written here, set {@link
 * Builder#beforeWrite(UnaryOperator)} (with OpenTelemetry, a propagator injecting {@code
 * Context.current()} into the headers).
 *
 * <h2>Checks, before anything is written</h2>
 *
 * Every message of a call is checked first, so a bad one fails the call with nothing of it written
 * (the caller's transaction stays usable): the topic must be a portable name (1 to 100 of {@code
 * [A-Za-z0-9._-]}, not starting with {@code .} or {@code -}), the key and headers together at most
 * {@link Message#MAX_METADATA_BYTES} bytes in UTF-8, the payload at most {@link
 * Builder#maxPayloadBytes(int)} and the headers at most {@link Builder#maxHeaders(int)} (both
 * unbounded unless set: set them to the target backend's {@code capabilities()} so that an
 * oversized message fails here rather than being parked by the relay). Refused with {@link
 * IllegalArgumentException}, naming the message and the field: a reserved {@code polybus-} header
 * other than the two codec headers (a dead-letter header, which only the bus writes), and U+0000 in
 * the key or a header (PostgreSQL text cannot hold it). A connection in auto-commit mode is refused
 * with {@link IllegalStateException}: each row would commit on its own, which defeats the outbox.
 *
 * <h2>Order and locking</h2>
 *
 * Before it writes a keyed message, {@code publish} takes a transaction-scoped advisory lock on its
 * (topic, key) ({@code pg_advisory_xact_lock}), held until the caller's transaction ends. Two
 * transactions writing the same key therefore run their outbox writes one after the other, and the
 * relay publishes the messages of a key in the order their transactions committed. Keys of one
 * {@code publishAll} are locked in a fixed order; a transaction that publishes key A then, in a
 * later call, key B, while another publishes B then A, can deadlock like any two row lockers, and
 * PostgreSQL then aborts one of them ({@code 40P01}). Messages without a key take no lock and are
 * not ordered.
 *
 * <p>Immutable and thread-safe: share one instance. It holds no connection; each call uses the
 * caller's connection and leaves it open and in the caller's transaction.
 */
public final class Outbox {
  private final OutboxTable table;
  private final int maxPayloadBytes;
  private final int maxHeaders;
  private final UnaryOperator<Message> beforeWrite;

  private Outbox(Builder b) {
    this.table = new OutboxTable(b.table);
    this.maxPayloadBytes = b.maxPayloadBytes;
    this.maxHeaders = b.maxHeaders;
    this.beforeWrite = b.beforeWrite;
    if (b.createWith != null) {
      table.create(b.createWith);
    }
  }

  /** A builder for the table {@code polybus_outbox}, without limits and without creating it. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The PostgreSQL schema script with {@code table} ({@code [schema.]name}) in it: what {@link
   * Builder#createTable(DataSource)} runs, for those who create the table themselves.
   */
  public static String schemaScript(String table) {
    return OutboxTable.script(table);
  }

  /** The table this outbox writes to. */
  public String table() {
    return table.name;
  }

  /**
   * Writes one message in the caller's transaction. It is published when that transaction commits.
   *
   * @throws IllegalArgumentException if the topic or the message breaks a rule of the class doc
   * @throws IllegalStateException if {@code connection} is in auto-commit mode
   * @throws SQLException if the database refused the write (the caller's transaction is then, in
   *     PostgreSQL, aborted and must be rolled back)
   */
  public void publish(Connection connection, String topic, Message message) throws SQLException {
    publishAll(connection, topic, List.of(Objects.requireNonNull(message, "message")));
  }

  /**
   * Writes several messages to one topic in the caller's transaction, in list order. Every message
   * is checked before any is written.
   *
   * @throws IllegalArgumentException if the topic or any message breaks a rule of the class doc
   * @throws IllegalStateException if {@code connection} is in auto-commit mode
   * @throws SQLException if the database refused the write
   */
  public void publishAll(Connection connection, String topic, List<Message> messages)
      throws SQLException {
    Objects.requireNonNull(connection, "connection");
    checkTopic(topic);
    Objects.requireNonNull(messages, "messages");
    List<Message> checked = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      Message m = Objects.requireNonNull(messages.get(i), "messages[" + i + "]");
      if (beforeWrite != null) {
        m = Objects.requireNonNull(beforeWrite.apply(m), "beforeWrite returned null");
      }
      check(topic, m);
      checked.add(m);
    }
    if (connection.getAutoCommit()) {
      throw new IllegalStateException(
          "the connection is in auto-commit mode: the outbox writes inside your transaction, so"
              + " call connection.setAutoCommit(false) and commit after your own writes");
    }
    if (checked.isEmpty()) {
      return;
    }
    // Lock the keys in one fixed order (by lock number), so that two publishAll calls with the
    // same keys in different orders cannot deadlock each other.
    TreeSet<Integer> locks = new TreeSet<>();
    for (Message m : checked) {
      if (m.key() != null) {
        locks.add(OutboxTable.hash(topic, m.key()));
      }
    }
    if (locks.size() == 1) {
      try (PreparedStatement lock = connection.prepareStatement(table.lockKeySql)) {
        lock.setInt(1, table.writerClass);
        lock.setInt(2, locks.first());
        lock.execute();
      }
    } else if (!locks.isEmpty()) {
      // One round trip for all keys: unnest yields the array in order, so the locks are taken in
      // that order.
      try (PreparedStatement lock = connection.prepareStatement(table.lockKeysSql)) {
        lock.setInt(1, table.writerClass);
        lock.setArray(2, connection.createArrayOf("integer", locks.toArray(new Integer[0])));
        lock.execute();
      }
    }
    try (PreparedStatement insert = connection.prepareStatement(table.insertSql)) {
      for (Message m : checked) {
        Map<String, String> headers = m.headers();
        String[] names = headers.keySet().toArray(new String[0]);
        String[] values = headers.values().toArray(new String[0]);
        Array namesArray = connection.createArrayOf("text", names);
        Array valuesArray = connection.createArrayOf("text", values);
        insert.setInt(1, OutboxTable.shard(topic, m.key(), m.id()));
        insert.setString(2, topic);
        insert.setString(3, m.id());
        insert.setString(4, m.key());
        insert.setArray(5, namesArray);
        insert.setArray(6, valuesArray);
        insert.setBytes(7, m.payload());
        insert.setLong(8, m.timestampMillis());
        if (checked.size() == 1) {
          insert.executeUpdate();
        } else {
          insert.addBatch();
        }
      }
      if (checked.size() > 1) {
        insert.executeBatch();
      }
    }
  }

  private void check(String topic, Message m) {
    Map<String, String> headers = m.headers();
    if (headers.size() > maxHeaders) {
      throw new IllegalArgumentException(
          describe(topic, m)
              + " has "
              + headers.size()
              + " headers, more than the outbox's maxHeaders "
              + maxHeaders);
    }
    if (m.payloadSize() > maxPayloadBytes) {
      throw new IllegalArgumentException(
          describe(topic, m)
              + " has a payload of "
              + m.payloadSize()
              + " bytes, more than the outbox's maxPayloadBytes "
              + maxPayloadBytes);
    }
    long metadata = m.key() == null ? 0 : utf8(m.key());
    if (m.key() != null && m.key().indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          describe(topic, m) + ": the key contains U+0000, which PostgreSQL text cannot hold");
    }
    for (Map.Entry<String, String> e : headers.entrySet()) {
      String name = e.getKey();
      metadata += utf8(name) + utf8(e.getValue());
      if (name.regionMatches(true, 0, Message.RESERVED_PREFIX, 0, Message.RESERVED_PREFIX.length())
          && !name.equals(Codec.CONTENT_TYPE_HEADER)
          && !name.equals(Codec.TYPE_HEADER)) {
        throw new IllegalArgumentException(
            describe(topic, m)
                + " carries the reserved header '"
                + name
                + "': the outbox keeps only the codec headers "
                + Codec.CONTENT_TYPE_HEADER
                + " and "
                + Codec.TYPE_HEADER
                + " of the reserved ones (remove the others, e.g. the dead-letter headers of a"
                + " delivered dead letter, before writing it)");
      }
      if (name.indexOf('\0') >= 0 || e.getValue().indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            describe(topic, m)
                + ": header '"
                + name.replace('\0', '?')
                + "' contains U+0000, which PostgreSQL text cannot hold");
      }
    }
    if (headers.containsKey(Codec.TYPE_HEADER) && !headers.containsKey(Codec.CONTENT_TYPE_HEADER)) {
      throw new IllegalArgumentException(
          describe(topic, m)
              + " has "
              + Codec.TYPE_HEADER
              + " without "
              + Codec.CONTENT_TYPE_HEADER
              + ", which Message.Builder cannot rebuild");
    }
    if (metadata > Message.MAX_METADATA_BYTES) {
      throw new IllegalArgumentException(
          describe(topic, m)
              + ": key and headers are "
              + metadata
              + " bytes in UTF-8, more than Message.MAX_METADATA_BYTES "
              + Message.MAX_METADATA_BYTES);
    }
  }

  private static long utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8).length;
  }

  private static String describe(String topic, Message m) {
    return "message " + m.id() + " to '" + topic + "'";
  }

  /** The bus's own rule and message, so that what the outbox takes the relay can publish. */
  static void checkTopic(String topic) {
    Objects.requireNonNull(topic, "topic");
    PortableNames.checkTopic(topic);
  }

  @Override
  public String toString() {
    return "Outbox{table=" + table.name + "}";
  }

  /**
   * Builds an {@link Outbox}. Not thread-safe; each {@link #build()} returns an independent outbox.
   */
  public static final class Builder {
    private String table = OutboxTable.DEFAULT_TABLE;
    private int maxPayloadBytes = Integer.MAX_VALUE;
    private int maxHeaders = Integer.MAX_VALUE;
    private UnaryOperator<Message> beforeWrite;
    private DataSource createWith;

    private Builder() {}

    /**
     * The table, {@code [schema.]name} of unquoted identifiers; {@code polybus_outbox} unless set.
     * The relay must use the same.
     */
    public Builder table(String table) {
      this.table = OutboxTable.check(table);
      return this;
    }

    /**
     * The largest payload written, in bytes: set it to the bus's {@code
     * capabilities().maxPayloadBytes()}, so that a message the backend would refuse fails at write
     * time instead of being parked by the relay.
     */
    public Builder maxPayloadBytes(int maxPayloadBytes) {
      if (maxPayloadBytes < 0) {
        throw new IllegalArgumentException("maxPayloadBytes must be >= 0, was " + maxPayloadBytes);
      }
      this.maxPayloadBytes = maxPayloadBytes;
      return this;
    }

    /** The most headers a message may have: the bus's {@code capabilities().maxHeaders()}. */
    public Builder maxHeaders(int maxHeaders) {
      if (maxHeaders < 0) {
        throw new IllegalArgumentException("maxHeaders must be >= 0, was " + maxHeaders);
      }
      this.maxHeaders = maxHeaders;
      return this;
    }

    /**
     * Applied to each message, on the caller's thread, before it is checked and written: the place
     * to add the current trace context to its headers. Must be thread-safe and must not return
     * null.
     */
    public Builder beforeWrite(UnaryOperator<Message> beforeWrite) {
      this.beforeWrite = Objects.requireNonNull(beforeWrite, "beforeWrite");
      return this;
    }

    /**
     * Creates the table and its index at {@link #build()} with a connection of {@code dataSource}
     * (given back at once) unless they exist: the script {@link Outbox#schemaScript(String)}.
     * Without this call, {@code build} assumes the table exists.
     */
    public Builder createTable(DataSource dataSource) {
      this.createWith = Objects.requireNonNull(dataSource, "dataSource");
      return this;
    }

    /**
     * The outbox.
     *
     * @throws IllegalStateException if the table was to be created and could not be
     */
    public Outbox build() {
      return new Outbox(this);
    }
  }
}
