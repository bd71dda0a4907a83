package io.polybus.idempotency;

import io.polybus.Delivery;
import io.polybus.Message;
import java.time.Duration;

/** A delivery passing everything to another; the wrappers override the settling they watch. */
abstract class ForwardingDelivery implements Delivery {
  final Delivery delegate;

  ForwardingDelivery(Delivery delegate) {
    this.delegate = delegate;
  }

  @Override
  public Message message() {
    return delegate.message();
  }

  @Override
  public String topic() {
    return delegate.topic();
  }

  @Override
  public String group() {
    return delegate.group();
  }

  @Override
  public int attempt() {
    return delegate.attempt();
  }

  @Override
  public boolean ack() {
    return delegate.ack();
  }

  @Override
  public boolean retry(Duration delay) {
    return delegate.retry(delay);
  }

  @Override
  public boolean deadLetter(String reason) {
    return delegate.deadLetter(reason);
  }

  @Override
  public boolean isSettled() {
    return delegate.isSettled();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "{" + delegate + "}";
  }
}
