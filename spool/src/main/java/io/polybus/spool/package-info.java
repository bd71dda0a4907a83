/**
 * Store-and-forward on the publisher's side. {@link io.polybus.spool.Spool#open Spool.open(bus,
 * options)} wraps any bus: a publish the broker cannot take now (unreachable, timing out, pushing
 * back) is appended to a local {@code log:} directory and forwarded when the broker answers again,
 * in per-key publish order, with the same id, key, headers and timestamp; its receipt says {@link
 * io.polybus.PublishReceipt#spooled() spooled}. {@code docs/spool.md} has the design and the exact
 * guarantees; {@code docs/outbox.md} says when to use the transactional outbox instead.
 */
package io.polybus.spool;
