/**
 * The demo's order service writing through the transactional outbox ({@code polybus-outbox}): the
 * order row and its event in one PostgreSQL transaction, forwarded by a relay.
 */
package io.polybus.samples.outbox;
