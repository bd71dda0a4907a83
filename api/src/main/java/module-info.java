/**
 * Polybus: one publish/subscribe API over many brokers.
 *
 * <p>{@code io.polybus} is the API applications use; {@code io.polybus.spi} is for backend authors;
 * {@code io.polybus.internal} is not API and may change in any release.
 */
module io.polybus.api {
  requires static com.fasterxml.jackson.databind;
  requires static com.fasterxml.jackson.core;

  exports io.polybus;
  exports io.polybus.spi;

  uses io.polybus.spi.BackendProvider;
}
