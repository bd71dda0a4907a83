/** The in-memory Polybus backend ({@code mem:}). */
module io.polybus.inmemory {
  requires io.polybus.api;

  provides io.polybus.spi.BackendProvider with
      io.polybus.inmemory.InMemoryBackendProvider;
}
