package io.polybus.tck;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test that leaves threads behind: after each test, every live thread whose name contains a
 * topic or group name the test made with {@link TckContext#uniqueName(String)} must end within the
 * await timeout. The shared runtime names its threads after topic and group, so this proves that
 * closing a bus stops every subscription it opened. Matching by the test's own names keeps the
 * check correct when tests run in parallel. Thread-safe.
 */
final class ThreadLeakCheck implements AfterEachCallback {
  /** Names made by each test instance (JUnit makes one instance per test method). */
  private static final Map<Object, Set<String>> NAMES =
      Collections.synchronizedMap(new WeakHashMap<>());

  static void register(Object testInstance, String name) {
    NAMES.computeIfAbsent(testInstance, k -> ConcurrentHashMap.newKeySet()).add(name);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Object instance = context.getTestInstance().orElse(null);
    Set<String> names = instance == null ? null : NAMES.remove(instance);
    if (names == null || names.isEmpty()) {
      return;
    }
    Duration timeout =
        instance instanceof TckContext
            ? ((TckContext) instance).timeouts().await()
            : TckTimeouts.defaults().await();
    Await.until(
        timeout,
        () ->
            "the threads of this test's topics and groups ended after its buses closed; still"
                + " running: "
                + leaked(names),
        () -> leaked(names).isEmpty());
  }

  private static List<String> leaked(Set<String> names) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> names.stream().anyMatch(n::contains))
        .sorted()
        .toList();
  }
}
