package io.polybus.tck;

/**
 * The whole Polybus TCK: every area in one interface. A backend passes when its test class,
 * implementing this interface, passes.
 *
 * <h2>Using it</h2>
 *
 * <pre>{@code
 * class MyBackendTckTest implements PolybusTck {
 *   public Polybus connect() {
 *     return Polybus.connect("mybroker://localhost:1234");
 *   }
 *
 *   public Capabilities declaredCapabilities() {
 *     return Capabilities.builder().orderedByKey(true).replay(true).maxPayloadBytes(1 << 20).build();
 *   }
 * }
 * }</pre>
 *
 * Optionally override {@link #timeouts()} for a slow broker. Cases of a capability the backend
 * declares absent are skipped with the reason {@code "capability <name> is absent"}; nothing else
 * skips. To opt out of one case visibly, override its method with {@code @Disabled("why")} (and
 * {@code @Test}); never silently.
 *
 * <h2>What it needs</h2>
 *
 * JUnit Jupiter 5 and AssertJ on the test class path; a broker reachable by {@link #connect()}.
 * Tests create their own uniquely named topics and groups ({@code tck-<area>-<random>}), never
 * delete anything, and close every bus they open, so they can run against a shared long-lived
 * broker and in parallel ({@code junit.jupiter.execution.parallel.enabled}). Every test is bounded
 * by a {@code @Timeout} of 120 s.
 *
 * <p>See {@code docs/tck.md} for the full recipe.
 */
public interface PolybusTck
    extends CapabilitiesTck,
        DeliveryTck,
        FidelityTck,
        AckRetryTck,
        DeadLetterTck,
        OrderingTck,
        LifecycleTck,
        ReplayTck,
        BadInputTck,
        ObservabilityTck,
        ConsumerControlTck,
        BatchTck,
        RequestReplyTck,
        DelayTck,
        PriorityTck,
        IdempotencyTck {}
