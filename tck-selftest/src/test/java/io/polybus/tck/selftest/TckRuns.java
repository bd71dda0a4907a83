package io.polybus.tck.selftest;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * Runs one candidate class through the Jupiter engine and reports what happened to each TCK case.
 */
final class TckRuns {
  private TckRuns() {}

  /** The outcome of one run: failed cases with their first message line, and the counts. */
  record Outcome(
      String candidate,
      Map<String, String> failed,
      long succeeded,
      long aborted,
      long started,
      long millis) {
    String describe() {
      StringBuilder sb =
          new StringBuilder(
              candidate
                  + ": "
                  + started
                  + " cases in "
                  + millis
                  + " ms, "
                  + succeeded
                  + " passed, "
                  + failed.size()
                  + " failed, "
                  + aborted
                  + " skipped");
      failed.forEach((name, why) -> sb.append("\n  FAILED ").append(name).append(": ").append(why));
      return sb.toString();
    }
  }

  static Outcome run(Class<?> candidate) {
    long began = System.nanoTime();
    EngineExecutionResults results =
        EngineTestKit.engine("junit-jupiter")
            // The candidate's cases run one after the other, whatever the surrounding run is
            // configured to do.
            .configurationParameter("junit.jupiter.execution.parallel.enabled", "false")
            .selectors(selectClass(candidate))
            .execute();
    Events tests = results.testEvents();
    Map<UniqueId, Instant> startedAt = new HashMap<>();
    for (Event e : tests.started().list()) {
      startedAt.put(e.getTestDescriptor().getUniqueId(), e.getTimestamp());
    }
    Map<String, String> failed = new TreeMap<>();
    for (Event e : tests.failed().list()) {
      String name =
          e.getTestDescriptor()
              .getSource()
              .filter(MethodSource.class::isInstance)
              .map(s -> ((MethodSource) s).getMethodName())
              .orElse(e.getTestDescriptor().getDisplayName());
      String why =
          e.getPayload(TestExecutionResult.class)
              .flatMap(TestExecutionResult::getThrowable)
              .map(t -> firstLine(t.toString()))
              .orElse("?");
      Instant start = startedAt.get(e.getTestDescriptor().getUniqueId());
      String took =
          start == null ? "" : " (" + Duration.between(start, e.getTimestamp()).toMillis() + " ms)";
      failed.put(name, why + took);
    }
    Outcome o =
        new Outcome(
            candidate.getSimpleName(),
            failed,
            tests.succeeded().count(),
            tests.aborted().count(),
            tests.started().count(),
            (System.nanoTime() - began) / 1_000_000);
    System.out.println(o.describe());
    return o;
  }

  private static String firstLine(String s) {
    List<String> lines = s.lines().filter(l -> !l.isBlank()).limit(3).toList();
    String joined = String.join(" | ", lines);
    return joined.length() > 300 ? joined.substring(0, 300) + "..." : joined;
  }
}
