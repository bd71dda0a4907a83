package io.polybus.kafka;

import io.polybus.tck.BackendDocs;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code kafka://} declares. */
class KafkaDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new KafkaBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("kafka", new KafkaTckTest().declaredCapabilities());
  }
}
