/**
 * The in-memory backend, {@code mem:}: a complete broker inside the JVM, with groups, competing
 * consumers, per-key ordering across members, replay, delayed release, dead-lettering through the
 * shared runtime, and redelivery of whatever a closed member left unsettled. It passes the whole
 * TCK, so tests that use it behave like production.
 *
 * <p>Only {@link io.polybus.inmemory.InMemoryBackendProvider} is public, for the {@link
 * java.util.ServiceLoader}; use it through {@code Polybus.connect("mem:")}.
 */
package io.polybus.inmemory;
