package io.polybus.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import io.polybus.tck.BackendDocs;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** docs/uris.md and docs/semantics.md say what {@code mem:} declares. */
class InMemoryDocsTest {
  @Test
  void uriDocsStateEveryDeclaredParameterWithItsDefault() {
    BackendDocs.checkUris(new InMemoryBackendProvider());
  }

  @Test
  void semanticsTableMatchesTheDeclaredCapabilities() {
    BackendDocs.checkCapabilities("mem", new InMemoryTckTest().declaredCapabilities());
  }

  /**
   * The checks can fail: a changed default, an undocumented or unknown parameter, a wrong
   * capability.
   */
  @Test
  void docsThatDisagreeWithTheDeclarationsAreReported() throws Exception {
    String uris = Files.readString(BackendDocs.URIS);
    String row = uris.lines().filter(l -> l.startsWith("| `mem` |")).findFirst().orElseThrow();
    InMemoryBackendProvider provider = new InMemoryBackendProvider();
    assertThat(BackendDocs.uriProblems(uris, provider)).isEmpty();
    assertThat(
            BackendDocs.uriProblems(
                uris.replace(row, row.replace("default 1000000", "default 1000")), provider))
        .singleElement()
        .asString()
        .contains("retention", "1000000");
    assertThat(
            BackendDocs.uriProblems(
                uris.replace(row, row.replace("`maxPayload`", "`maxBytes`")), provider))
        .anyMatch(p -> p.contains("'maxPayload' is not in the docs"))
        .anyMatch(p -> p.contains("`maxBytes`"));

    String semantics = Files.readString(BackendDocs.SEMANTICS);
    String mem =
        semantics.lines().filter(l -> l.startsWith("| `mem:` |")).findFirst().orElseThrow();
    assertThat(
            BackendDocs.capabilityProblems(
                semantics.replace(mem, mem.replace("| no |", "| yes |")),
                "mem",
                new InMemoryTckTest().declaredCapabilities()))
        .isNotEmpty();
    assertThat(
            BackendDocs.capabilityProblems(
                semantics.replace(mem, mem.replace("| 1 MiB", "| 2 MiB")),
                "mem",
                new InMemoryTckTest().declaredCapabilities()))
        .singleElement()
        .asString()
        .contains("max payload");
    assertThat(
            BackendDocs.capabilityProblems(
                semantics.replace(mem, mem.replace("| 30 days |", "| 7 days |")),
                "mem",
                new InMemoryTckTest().declaredCapabilities()))
        .singleElement()
        .asString()
        .contains("maxDeliveryDelay");
  }
}
