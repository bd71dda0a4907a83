package io.polybus.spi;

import io.polybus.PolybusOptions;
import java.util.List;
import java.util.Set;

/**
 * Creates {@link Backend}s for one or more URI schemes. Found with {@link java.util.ServiceLoader}:
 * list the implementation in {@code META-INF/services/io.polybus.spi.BackendProvider} and, for the
 * module path, in {@code module-info.java} as {@code provides io.polybus.spi.BackendProvider with
 * ...}.
 *
 * <p>Implementations must have a public no-argument constructor, be thread-safe and be cheap to
 * instantiate: providers are instantiated to read their schemes even when another backend is
 * chosen, so they must not connect to anything before {@link #open}.
 */
public interface BackendProvider {
  /**
   * The URI schemes served, lower-case, for example {@code Set.of("rabbitmq", "amqp", "amqps")}.
   */
  Set<String> schemes();

  /**
   * A short human description shown when listing available backends, for example {@code
   * "in-memory"}.
   */
  String description();

  /**
   * Opens a backend. Must reject every URI parameter it does not know with an {@link
   * io.polybus.ConfigurationException} naming it (see {@link Parameters}), and must never put the
   * options' secrets into an exception message or a log line (use {@link
   * PolybusOptions#redacted()}).
   */
  Backend open(PolybusOptions options);

  /**
   * Every URI parameter {@link #open} accepts, declared once (see {@link Parameter}); the backend
   * reads them with {@link Parameters#of(PolybusOptions, List)}, and its docs test checks {@code
   * docs/uris.md} against them. Empty by default, for a backend that has not declared its
   * parameters. An immutable list, the same on every call.
   */
  default List<Parameter<?>> parameters() {
    return List.of();
  }
}
