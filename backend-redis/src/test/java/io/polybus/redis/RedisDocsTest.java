package io.polybus.redis;

import io.polybus.tck.BackendDocs;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code redis://} declares. */
class RedisDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new RedisBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("redis", new RedisTckTest().declaredCapabilities());
  }
}
