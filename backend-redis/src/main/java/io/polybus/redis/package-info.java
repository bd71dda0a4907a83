/**
 * The Redis Streams backend, {@code redis://} and {@code rediss://}: a topic is a stream, a group a
 * Redis consumer group, a member a consumer of that group. Delayed retries wait in a sorted set and
 * come back through a Lua script; dead letters are added and the original acknowledged in one
 * script; the optional partitioned mode ({@code partitions=N}) spreads a topic over N streams by
 * key hash, each read by one member at a time under a lease, which gives ordering by key.
 *
 * <p>Only {@link io.polybus.redis.RedisBackendProvider} is public, for the {@link
 * java.util.ServiceLoader}; use it through {@code Polybus.connect("redis://host:6379")}. The entry
 * layout (so other clients can produce and read entries) is described in {@code EntryLayout} and in
 * {@code docs/semantics.md}.
 */
package io.polybus.redis;
