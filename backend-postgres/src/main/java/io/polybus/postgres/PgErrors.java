package io.polybus.postgres;

import io.polybus.AuthenticationException;
import io.polybus.BrokerUnavailableException;
import io.polybus.NonTransientPolybusException;
import io.polybus.PolybusException;
import io.polybus.PolybusTimeoutException;
import io.polybus.TransientPolybusException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * Maps JDBC failures to Polybus exceptions by SQLSTATE: connection classes ({@code 08}), a server
 * shutting down ({@code 57P01..57P03}) and too many connections ({@code 53300}) are {@link
 * BrokerUnavailableException}; a statement timeout ({@code 57014}) is {@link
 * PolybusTimeoutException}; serialization failures and deadlocks are transient; authentication
 * ({@code 28}) is {@link AuthenticationException}; everything else is non-transient. Stateless.
 */
final class PgErrors {
  private PgErrors() {}

  static PolybusException map(Throwable t, String what, PgSettings s) {
    if (t instanceof PolybusException p) {
      return p;
    }
    String detail =
        "PostgreSQL at "
            + s.where()
            + " (schema "
            + s.schema()
            + "), "
            + what
            + ": "
            + message(t, s);
    if (t instanceof SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      if (state.startsWith("08")
          || state.equals("57P01")
          || state.equals("57P02")
          || state.equals("57P03")
          || state.equals("53300")
          || e instanceof SQLTransientConnectionException
          || hasCause(e, ConnectException.class)
          || hasCause(e, SocketException.class)) {
        return new BrokerUnavailableException(detail, e);
      }
      if (state.equals("57014") || hasCause(e, SocketTimeoutException.class)) {
        return new PolybusTimeoutException(detail, e);
      }
      if (state.startsWith("28")) {
        return new AuthenticationException(detail, e);
      }
      if (state.equals("40001") || state.equals("40P01") || state.equals("55P03")) {
        return new TransientPolybusException(detail, e);
      }
      return new NonTransientPolybusException(detail, e);
    }
    if (hasCause(t, ConnectException.class) || hasCause(t, SocketException.class)) {
      return new BrokerUnavailableException(detail, t);
    }
    return new NonTransientPolybusException(detail, t);
  }

  /** True when {@code t} means the connection is unusable and must be dropped. */
  static boolean isConnectionLost(Throwable t) {
    if (t instanceof SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      return state.startsWith("08")
          || state.startsWith("57P")
          || hasCause(e, SocketException.class);
    }
    return false;
  }

  /** The exception's message with the password, should a driver ever echo it, masked. */
  static String message(Throwable t, PgSettings s) {
    String m = String.valueOf(t.getMessage());
    if (s.password() != null && !s.password().isEmpty()) {
      m = m.replace(s.password(), "****");
    }
    return m;
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
