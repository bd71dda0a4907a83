package io.polybus.internal;

import io.polybus.ConfigurationException;
import io.polybus.Instrumentation;
import io.polybus.Polybus;
import io.polybus.PolybusOptions;
import io.polybus.spi.Backend;
import io.polybus.spi.BackendProvider;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Not API. Finds the provider for a scheme with {@link ServiceLoader} and opens the bus. */
public final class Connector {
  private Connector() {}

  public static Polybus connect(PolybusOptions options) {
    return connect(options, null);
  }

  /** With {@code instrumentation} installed, or none when it is null. */
  public static Polybus connect(PolybusOptions options, Instrumentation instrumentation) {
    Objects.requireNonNull(options, "options");
    Map<String, String> available = new TreeMap<>();
    BackendProvider chosen = null;
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    ServiceLoader<BackendProvider> sl =
        loader != null && !Connector.class.getModule().isNamed()
            ? ServiceLoader.load(BackendProvider.class, loader)
            : ServiceLoader.load(BackendProvider.class);
    try {
      for (BackendProvider p : sl) {
        for (String s : p.schemes()) {
          available.putIfAbsent(s, p.description());
        }
        if (chosen == null && p.schemes().contains(options.scheme())) {
          chosen = p;
        }
      }
    } catch (ServiceConfigurationError e) {
      throw new ConfigurationException(
          "a Polybus backend on the class path could not be loaded: " + e.getMessage(), e);
    }
    if (chosen == null) {
      StringBuilder sb = new StringBuilder();
      available.forEach(
          (s, d) ->
              sb.append(sb.length() == 0 ? "" : ", ").append(s).append(" (").append(d).append(')'));
      throw new ConfigurationException(
          "no Polybus backend for scheme '"
              + options.scheme()
              + "' in '"
              + options.redacted()
              + "'; backends on the class path: "
              + (available.isEmpty() ? "none (add a polybus-backend-* artifact)" : sb.toString()));
    }
    Backend backend = chosen.open(options);
    if (backend == null) {
      throw new IllegalStateException(chosen.getClass().getName() + ".open returned null");
    }
    DefaultPolybus bus = new DefaultPolybus(options, backend);
    if (instrumentation != null) {
      try {
        bus.instrument(instrumentation);
      } catch (RuntimeException e) {
        bus.close();
        throw e;
      }
    }
    return bus;
  }
}
