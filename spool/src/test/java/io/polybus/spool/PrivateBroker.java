package io.polybus.spool;

/** A broker of the test's own that it may stop and start again, its data kept in between. */
interface PrivateBroker extends AutoCloseable {
  /** The URI of a bus on it, without parameters. */
  String uri();

  /** Stops it; publishes fail until {@link #start()}. */
  void stop() throws Exception;

  /** Starts it again and waits until it answers. */
  void start() throws Exception;

  /** Stops it and deletes its files. */
  @Override
  void close() throws java.io.IOException;
}
