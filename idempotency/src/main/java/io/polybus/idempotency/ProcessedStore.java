package io.polybus.idempotency;

import java.time.Instant;

/**
 * Where an idempotent consumer records which messages a group has processed: a set of marks, each a
 * pair (group, message id). The SPI for store authors; applications pick {@link
 * InMemoryProcessedStore} or {@link JdbcProcessedStore} and hand it to {@link Idempotent}.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>{@link #markProcessed} adds the mark and reports whether it was new. Once it has returned,
 *       every later {@link #isProcessed} of that pair, in any thread (and, for a shared store, any
 *       process), answers {@code true} until the mark is forgotten: the wrapper acknowledges the
 *       delivery right after marking, so a mark that is not yet visible when the next copy arrives
 *       is a duplicate let through.
 *   <li>A mark is forgotten only by {@link #purgeMarkedBefore} or by the store's own documented
 *       retention (size bound, expiry). A forgotten mark lets a later copy of that message be
 *       handled again: keep marks longer than duplicates can arrive (the broker's redelivery
 *       window, the producer's retry window, the dead-letter topic's redrive window).
 *   <li>Groups and ids are compared exactly (case-sensitive, by their UTF-16 characters). A group
 *       is a portable name of at most 100 characters; an id at most {@link
 *       io.polybus.Message#MAX_ID_BYTES} bytes in UTF-8.
 *   <li>The store never claims or locks: keeping two deliveries of one id from running at once is
 *       the wrapper's job (see {@link Idempotent}). So a store needs no notion of "in progress",
 *       and a failed attempt leaves nothing behind.
 *   <li>A store that cannot answer throws {@link ProcessedStoreException} (with the cause); the
 *       wrapper then fails the delivery, which is retried by the subscription's retry policy.
 *       Nothing is marked and nothing is lost.
 * </ul>
 *
 * <p>Implementations must be thread-safe: handler threads of any number of subscriptions call one
 * store concurrently. The application owns the store and whatever it holds (a {@code DataSource}
 * for example); the wrappers never close it.
 */
public interface ProcessedStore {
  /**
   * Whether {@code messageId} was marked processed for {@code group} (and not forgotten since).
   *
   * @throws ProcessedStoreException if the store cannot answer
   */
  boolean isProcessed(String group, String messageId);

  /**
   * Marks {@code messageId} processed for {@code group}, durably by the store's own standard before
   * returning.
   *
   * @return {@code true} if the mark is new, {@code false} if it was there already
   * @throws ProcessedStoreException if the mark could not be written (then it was not)
   */
  boolean markProcessed(String group, String messageId);

  /**
   * Forgets every mark made before {@code cutoff}, by the store's clock; marks made at or after it
   * stay.
   *
   * @return how many marks were forgotten
   * @throws ProcessedStoreException if the store cannot do it
   */
  long purgeMarkedBefore(Instant cutoff);
}
