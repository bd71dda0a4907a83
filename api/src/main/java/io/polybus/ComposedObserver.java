package io.polybus;

import io.polybus.Instrumentation.Attempt;
import io.polybus.Instrumentation.Observer;
import io.polybus.Instrumentation.Outcome;
import io.polybus.Instrumentation.Scope;
import io.polybus.Instrumentation.Sending;
import java.util.List;

/**
 * The observer of {@link Instrumentation#compose}: calls its parts in order. A publish passes the
 * messages each part returns on to the next, so every part's headers arrive. Thread-safe if the
 * parts are.
 */
final class ComposedObserver implements Observer {
  private final Observer[] parts;

  ComposedObserver(List<Observer> parts) {
    this.parts = parts.toArray(new Observer[0]);
  }

  @Override
  public Sending publishing(String topic, List<Message> messages) {
    Sending[] s = new Sending[parts.length];
    List<Message> current = messages;
    boolean any = false;
    for (int i = 0; i < parts.length; i++) {
      s[i] = parts[i].publishing(topic, current);
      if (s[i] != null) {
        current = s[i].messages();
        any = true;
      }
    }
    return any ? new ComposedSending(s, current) : null;
  }

  @Override
  public Attempt attempting(Delivery delivery, String partition) {
    Attempt[] a = new Attempt[parts.length];
    boolean any = false;
    for (int i = 0; i < parts.length; i++) {
      a[i] = parts[i].attempting(delivery, partition);
      any |= a[i] != null;
    }
    return any ? new ComposedAttempt(a) : null;
  }

  @Override
  public Sending deadLettering(
      Attempt last, Delivery delivery, String deadLetterTopic, Message deadLetter) {
    Attempt[] lasts = last instanceof ComposedAttempt c ? c.parts : new Attempt[parts.length];
    return chainOne(
        deadLetter, (i, m) -> parts[i].deadLettering(lasts[i], delivery, deadLetterTopic, m));
  }

  @Override
  public Sending redriving(
      String deadLetterTopic, Message record, String sourceTopic, Message republished) {
    return chainOne(
        republished, (i, m) -> parts[i].redriving(deadLetterTopic, record, sourceTopic, m));
  }

  /** Part {@code i}'s sending of message {@code m}, for {@link #chainOne}. */
  private interface PartSending {
    Sending of(int part, Message m);
  }

  /**
   * A one-message sending through every part in order, each given the message the one before it
   * returned; null when no part observes it.
   */
  private Sending chainOne(Message first, PartSending part) {
    Sending[] s = new Sending[parts.length];
    Message current = first;
    boolean any = false;
    for (int i = 0; i < parts.length; i++) {
      s[i] = part.of(i, current);
      if (s[i] != null) {
        current = s[i].messages().get(0);
        any = true;
      }
    }
    return any ? new ComposedSending(s, List.of(current)) : null;
  }

  @Override
  public void subscribed(Subscription subscription) {
    for (Observer o : parts) {
      o.subscribed(subscription);
    }
  }

  @Override
  public void unsubscribed(Subscription subscription) {
    for (Observer o : parts) {
      o.unsubscribed(subscription);
    }
  }

  @Override
  public void circuitChanged(
      Subscription subscription, CircuitBreaker.State from, CircuitBreaker.State to, String why) {
    for (Observer o : parts) {
      o.circuitChanged(subscription, from, to, why);
    }
  }

  @Override
  public void replyDropped(String replyTopic, Message reply) {
    for (Observer o : parts) {
      o.replyDropped(replyTopic, reply);
    }
  }

  @Override
  public void closed() {
    for (Observer o : parts) {
      o.closed();
    }
  }

  private record ComposedSending(Sending[] parts, List<Message> messages) implements Sending {
    @Override
    public void completed(List<PublishReceipt> receipts, Throwable failure) {
      for (Sending s : parts) {
        if (s != null) {
          s.completed(receipts, failure);
        }
      }
    }
  }

  private record ComposedAttempt(Attempt[] parts) implements Attempt {
    @Override
    public Scope enter() {
      Scope[] scopes = new Scope[parts.length];
      for (int i = 0; i < parts.length; i++) {
        if (parts[i] != null) {
          scopes[i] = parts[i].enter();
        }
      }
      return () -> {
        for (int i = scopes.length - 1; i >= 0; i--) {
          if (scopes[i] != null) {
            scopes[i].close();
          }
        }
      };
    }

    @Override
    public void settled(Outcome outcome, Throwable failure) {
      for (Attempt a : parts) {
        if (a != null) {
          a.settled(outcome, failure);
        }
      }
    }
  }
}
