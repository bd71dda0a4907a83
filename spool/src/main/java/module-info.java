/**
 * The Polybus spool: {@link io.polybus.spool.Spool} wraps any bus so that a publish the broker
 * cannot take now is appended to a local {@code log:} directory and forwarded later, in per-key
 * order, with the same id. The {@code log:} backend is found through the {@link
 * java.util.ServiceLoader}, like every backend.
 */
module io.polybus.spool {
  requires transitive io.polybus.api;

  exports io.polybus.spool;
}
