/** Micrometer metrics for Polybus: {@link io.polybus.micrometer.PolybusMetrics}. */
module io.polybus.micrometer {
  requires transitive io.polybus.api;
  requires transitive micrometer.core;

  exports io.polybus.micrometer;
}
