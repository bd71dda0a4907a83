package io.polybus.rabbitmq;

import io.polybus.tck.BackendDocs;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code rabbitmq://} declares. */
class RabbitMqDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new RabbitMqBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("rabbitmq", new RabbitMqTckTest().declaredCapabilities());
  }
}
