/**
 * OpenTelemetry tracing for Polybus: {@link io.polybus.opentelemetry.PolybusTracing}. Needs only
 * {@code opentelemetry-api}; the application brings the SDK and its exporters.
 */
module io.polybus.opentelemetry {
  requires transitive io.polybus.api;
  requires transitive io.opentelemetry.api;
  requires io.opentelemetry.context;

  exports io.polybus.opentelemetry;
}
