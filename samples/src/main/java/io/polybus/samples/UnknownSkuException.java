package io.polybus.samples;

/**
 * Thrown by the inventory service for an order whose SKU is not in the catalog: the demo's poison
 * message.
 */
final class UnknownSkuException extends RuntimeException {
  UnknownSkuException(String message) {
    super(message);
  }
}
