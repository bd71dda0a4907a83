package io.polybus;

/**
 * The responder of a request failed for good: its handler threw on the last attempt its retry
 * policy allows, or threw an exception the policy does not retry. Carries the remote exception's
 * class name and message, not the exception itself (it lives in another process). Not transient:
 * asking again sends a new request. Immutable.
 */
public class RemoteFailureException extends NonTransientPolybusException {
  private static final long serialVersionUID = 1L;

  private final String remoteClass;
  private final String remoteMessage;

  public RemoteFailureException(String topic, String remoteClass, String remoteMessage) {
    super(
        "the responder on topic '"
            + topic
            + "' failed: "
            + remoteClass
            + (remoteMessage == null || remoteMessage.isEmpty() ? "" : ": " + remoteMessage));
    this.remoteClass = remoteClass;
    this.remoteMessage = remoteMessage;
  }

  /** The class name of what the responder threw. */
  public String remoteClass() {
    return remoteClass;
  }

  /** Its message, or the empty string. */
  public String remoteMessage() {
    return remoteMessage == null ? "" : remoteMessage;
  }
}
