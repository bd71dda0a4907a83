/**
 * The embedded log Polybus backend ({@code log:}).
 *
 * <p>Only the provider's package is exported. {@code io.polybus.nativelog.internal} is not API: its
 * public classes (the backend itself, and the benchmarks' accessors {@code LogBenchAccess} and
 * {@code RecoveryBenchAccess}) are reachable on the class path only, where the benchmarks module
 * runs.
 */
module io.polybus.nativelog {
  requires io.polybus.api;

  exports io.polybus.nativelog;

  provides io.polybus.spi.BackendProvider with
      io.polybus.nativelog.NativeLogBackendProvider;
}
