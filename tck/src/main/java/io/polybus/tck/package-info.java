/**
 * The Polybus technology compatibility kit: JUnit 5 tests that every backend must pass.
 *
 * <p>The tests are {@code @Test default} methods of interfaces, one per area ({@link
 * io.polybus.tck.DeliveryTck}, {@link io.polybus.tck.FidelityTck}, {@link
 * io.polybus.tck.AckRetryTck}, {@link io.polybus.tck.DeadLetterTck}, {@link
 * io.polybus.tck.OrderingTck}, {@link io.polybus.tck.LifecycleTck}, {@link
 * io.polybus.tck.ReplayTck}, {@link io.polybus.tck.BadInputTck}, {@link
 * io.polybus.tck.CapabilitiesTck}); {@link io.polybus.tck.PolybusTck} extends them all. A backend's
 * test class implements {@code PolybusTck}, supplying a bus factory and the capabilities its author
 * declares; see {@link io.polybus.tck.TckContext} and {@code docs/tck.md}.
 *
 * <p>{@link io.polybus.tck.Await}, {@link io.polybus.tck.Inbox} and {@link
 * io.polybus.tck.TckTimeouts} are the small helpers the tests share; backend authors may use them
 * in their own tests. The TCK depends only on polybus-api, junit-jupiter-api and assertj-core.
 */
package io.polybus.tck;
