package io.polybus.idempotency;

/**
 * A {@link ProcessedStore} could not read or write its marks (a database down, a connection
 * refused). Unchecked, so that it passes through handlers; a handler wrapped by {@link Idempotent}
 * that meets it fails, and the subscription retries the delivery by its retry policy. Its own type
 * so that a caller can tell a store failure from a failure of its own handler.
 */
public class ProcessedStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProcessedStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
