package io.polybus.tck.selftest;

import io.polybus.idempotency.InMemoryProcessedStore;
import io.polybus.idempotency.ProcessedStore;
import java.time.Instant;

/**
 * The flaw {@code marks-before-success}: a dedupe store that marks a message as soon as it is
 * looked up, before the handler has run, so an attempt that fails leaves a mark and its retry is
 * acked without being handled (the message is lost). The way a check-then-insert "claim" goes wrong
 * when the claim is mistaken for the mark.
 */
final class MarksBeforeSuccessStore implements ProcessedStore {
  private final InMemoryProcessedStore marks = InMemoryProcessedStore.create();

  @Override
  public boolean isProcessed(String group, String messageId) {
    // The defect: answers as a correct store would, and marks on the way.
    return !marks.markProcessed(group, messageId);
  }

  @Override
  public boolean markProcessed(String group, String messageId) {
    return marks.markProcessed(group, messageId);
  }

  @Override
  public long purgeMarkedBefore(Instant cutoff) {
    return marks.purgeMarkedBefore(cutoff);
  }
}
