package io.polybus.sqs;

import io.polybus.AuthenticationException;
import io.polybus.BackPressureException;
import io.polybus.BrokerUnavailableException;
import io.polybus.NonTransientPolybusException;
import io.polybus.PayloadTooLargeException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.UnknownTopicException;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sqs.model.QueueDoesNotExistException;

/**
 * Maps AWS SDK failures to Polybus exceptions: transient when trying again later can help.
 * Stateless.
 */
final class SqsErrors {
  private SqsErrors() {}

  static PolybusException map(Throwable t, String what, SqsSettings settings) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof PolybusException p) {
      return p;
    }
    String detail = what + " (" + settings.where() + "): " + t.getMessage();
    if (t instanceof ApiCallTimeoutException || t instanceof ApiCallAttemptTimeoutException) {
      return new PolybusTimeoutException(detail, t);
    }
    if (t instanceof QueueDoesNotExistException) {
      return new UnknownTopicException(detail, t);
    }
    if (t instanceof AwsServiceException e) {
      String code =
          e.awsErrorDetails() != null ? String.valueOf(e.awsErrorDetails().errorCode()) : "";
      int status = e.statusCode();
      if (e.isThrottlingException()
          || code.contains("Throttl")
          || code.equals("RequestThrottled")
          || code.equals("KmsThrottled")) {
        return new BackPressureException(detail, t);
      }
      if (status == 401
          || status == 403
          || code.equals("AccessDenied")
          || code.equals("AccessDeniedException")
          || code.equals("InvalidClientTokenId")
          || code.equals("SignatureDoesNotMatch")
          || code.equals("ExpiredToken")
          || code.equals("UnrecognizedClientException")) {
        return new AuthenticationException(detail, t);
      }
      if (code.contains("TooLong") || code.contains("BatchRequestTooLong")) {
        return new PayloadTooLargeException(detail, t);
      }
      if (status >= 500) {
        return new BrokerUnavailableException(detail, t);
      }
      return new NonTransientPolybusException(detail, t);
    }
    if (t instanceof AbortedException) {
      return new BrokerUnavailableException(detail, t);
    }
    if (t instanceof SdkClientException) {
      // Connection refused, reset, unknown host, read timeouts: the endpoint is not reachable right
      // now.
      return hasCause(t, java.net.SocketTimeoutException.class)
          ? new PolybusTimeoutException(detail, t)
          : new BrokerUnavailableException(detail, t);
    }
    return new BrokerUnavailableException(detail, t);
  }

  static boolean isQueueMissing(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof PolybusException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof QueueDoesNotExistException) {
      return true;
    }
    return t instanceof AwsServiceException e
        && e.awsErrorDetails() != null
        && String.valueOf(e.awsErrorDetails().errorCode()).contains("NonExistentQueue");
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
