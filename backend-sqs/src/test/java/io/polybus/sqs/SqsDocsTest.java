package io.polybus.sqs;

import io.polybus.tck.BackendDocs;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code sqs://} declares. */
class SqsDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new SqsBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("sqs", new SqsTckTest().declaredCapabilities());
  }
}
