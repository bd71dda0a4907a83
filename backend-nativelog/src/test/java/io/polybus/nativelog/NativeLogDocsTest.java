package io.polybus.nativelog;

import io.polybus.tck.BackendDocs;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code log:} declares. */
class NativeLogDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new NativeLogBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("log", new NativeLogTckTest().declaredCapabilities());
  }
}
