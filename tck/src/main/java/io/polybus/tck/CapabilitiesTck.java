package io.polybus.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.Capabilities;
import io.polybus.Polybus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Proves that the backend reports exactly the capabilities its author declared in {@link
 * TckContext#declaredCapabilities()}, so the capability-gated cases that ran (or were skipped) are
 * the ones the backend's users rely on, and a change of claims cannot slip through unnoticed.
 */
public interface CapabilitiesTck extends TckContext {

  @Test
  @Timeout(120)
  default void shouldReportExactlyTheDeclaredCapabilities() {
    try (Polybus bus = connect()) {
      Capabilities reported = bus.capabilities();
      assertThat(reported)
          .as("capabilities reported by %s", bus.options().redacted())
          .isEqualTo(declaredCapabilities());
    }
  }
}
