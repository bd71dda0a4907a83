package io.polybus.kafka;

import io.polybus.AuthenticationException;
import io.polybus.BrokerUnavailableException;
import io.polybus.ConfigurationException;
import io.polybus.NonTransientPolybusException;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.TransientPolybusException;
import io.polybus.UnknownTopicException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Maps kafka-clients failures to the Polybus exception tree: transient when retrying later may
 * help.
 */
final class KafkaErrors {
  private KafkaErrors() {}

  static PolybusException map(String what, Throwable t) {
    Throwable c = unwrap(t);
    if (c instanceof PolybusException) {
      return (PolybusException) c;
    }
    String msg = what + ": " + c;
    if (c instanceof TimeoutException || c instanceof java.util.concurrent.TimeoutException) {
      return new PolybusTimeoutException(msg, c);
    }
    if (c instanceof org.apache.kafka.common.errors.AuthenticationException
        || c instanceof AuthorizationException) {
      return new AuthenticationException(msg, c);
    }
    if (c instanceof RecordTooLargeException || c instanceof RecordBatchTooLargeException) {
      return new PayloadTooLargeException(msg, c);
    }
    if (c instanceof InvalidTopicException) {
      return new UnknownTopicException(msg, c);
    }
    if (c instanceof org.apache.kafka.common.config.ConfigException) {
      return new ConfigurationException(msg, c);
    }
    if (c instanceof RetriableException) {
      return new BrokerUnavailableException(msg, c);
    }
    if (c instanceof InterruptException || c instanceof InterruptedException) {
      return new TransientPolybusException(msg, c);
    }
    return new NonTransientPolybusException(msg, c);
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof ExecutionException || c instanceof CompletionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
