package io.polybus.internal;

import io.polybus.CircuitBreaker;
import io.polybus.Delivery;
import io.polybus.Instrumentation.Attempt;
import io.polybus.Instrumentation.Observer;
import io.polybus.Instrumentation.Outcome;
import io.polybus.Instrumentation.Scope;
import io.polybus.Instrumentation.Sending;
import io.polybus.Message;
import io.polybus.PublishReceipt;
import io.polybus.Subscription;
import java.util.List;

/**
 * Not API. The installed observer as the runtime calls it: an observer that throws is logged and
 * treated as not observing, so instrumentation can never lose or hold up a message. A {@link
 * Sending} whose {@code messages()} fails publishes the messages it was given. Thread-safe.
 */
final class GuardedObserver implements Observer {
  private static final System.Logger LOG = System.getLogger("io.polybus.instrumentation");
  private static final Scope NO_SCOPE = () -> {};

  private final Observer inner;

  GuardedObserver(Observer inner) {
    this.inner = inner;
  }

  private void failed(String call, Throwable t) {
    LOG.log(System.Logger.Level.WARNING, "instrumentation " + inner + " failed in " + call, t);
  }

  @Override
  public Sending publishing(String topic, List<Message> messages) {
    try {
      return guard(inner.publishing(topic, messages), messages);
    } catch (RuntimeException e) {
      failed("publishing", e);
      return null;
    }
  }

  @Override
  public Attempt attempting(Delivery delivery, String partition) {
    try {
      Attempt a = inner.attempting(delivery, partition);
      return a == null ? null : new GuardedAttempt(a);
    } catch (RuntimeException e) {
      failed("attempting", e);
      return null;
    }
  }

  @Override
  public Sending deadLettering(
      Attempt last, Delivery delivery, String deadLetterTopic, Message deadLetter) {
    try {
      Attempt unwrapped = last instanceof GuardedAttempt g ? g.inner : last;
      return guard(
          inner.deadLettering(unwrapped, delivery, deadLetterTopic, deadLetter),
          List.of(deadLetter));
    } catch (RuntimeException e) {
      failed("deadLettering", e);
      return null;
    }
  }

  @Override
  public Sending redriving(
      String deadLetterTopic, Message record, String sourceTopic, Message republished) {
    try {
      return guard(
          inner.redriving(deadLetterTopic, record, sourceTopic, republished), List.of(republished));
    } catch (RuntimeException e) {
      failed("redriving", e);
      return null;
    }
  }

  @Override
  public void subscribed(Subscription subscription) {
    try {
      inner.subscribed(subscription);
    } catch (RuntimeException e) {
      failed("subscribed", e);
    }
  }

  @Override
  public void unsubscribed(Subscription subscription) {
    try {
      inner.unsubscribed(subscription);
    } catch (RuntimeException e) {
      failed("unsubscribed", e);
    }
  }

  @Override
  public void circuitChanged(
      Subscription subscription, CircuitBreaker.State from, CircuitBreaker.State to, String why) {
    try {
      inner.circuitChanged(subscription, from, to, why);
    } catch (RuntimeException e) {
      failed("circuitChanged", e);
    }
  }

  @Override
  public void replyDropped(String replyTopic, Message reply) {
    try {
      inner.replyDropped(replyTopic, reply);
    } catch (RuntimeException e) {
      failed("replyDropped", e);
    }
  }

  @Override
  public void closed() {
    try {
      inner.closed();
    } catch (RuntimeException e) {
      failed("closed", e);
    }
  }

  /** Asks for the messages now, so a failure there falls back to the given ones. */
  private Sending guard(Sending s, List<Message> given) {
    if (s == null) {
      return null;
    }
    List<Message> out;
    try {
      out = s.messages();
      if (out == null || out.size() != given.size()) {
        throw new IllegalStateException(
            "messages() returned "
                + (out == null ? "null" : out.size() + " messages")
                + " for "
                + given.size());
      }
      if (out != given) {
        out = List.copyOf(out); // the observer's list might change under us
      }
    } catch (RuntimeException e) {
      failed("messages", e);
      out = given;
    }
    return new GuardedSending(s, out);
  }

  private final class GuardedSending implements Sending {
    private final Sending inner;
    private final List<Message> messages;

    GuardedSending(Sending inner, List<Message> messages) {
      this.inner = inner;
      this.messages = messages;
    }

    @Override
    public List<Message> messages() {
      return messages;
    }

    @Override
    public void completed(List<PublishReceipt> receipts, Throwable failure) {
      try {
        inner.completed(receipts, failure);
      } catch (RuntimeException e) {
        failed("completed", e);
      }
    }
  }

  /** Also the scope of its own {@link #enter()}, so guarding allocates nothing more per attempt. */
  private final class GuardedAttempt implements Attempt, Scope {
    final Attempt inner;
    private Scope scope;

    GuardedAttempt(Attempt inner) {
      this.inner = inner;
    }

    @Override
    public Scope enter() {
      try {
        scope = inner.enter();
        return scope == null ? NO_SCOPE : this;
      } catch (RuntimeException e) {
        failed("enter", e);
        return NO_SCOPE;
      }
    }

    @Override
    public void close() {
      Scope s = scope;
      scope = null;
      try {
        s.close();
      } catch (RuntimeException e) {
        failed("scope close", e);
      }
    }

    @Override
    public void settled(Outcome outcome, Throwable failure) {
      try {
        inner.settled(outcome, failure);
      } catch (RuntimeException e) {
        failed("settled", e);
      }
    }
  }
}
