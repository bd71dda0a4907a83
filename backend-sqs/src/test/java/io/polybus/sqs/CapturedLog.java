package io.polybus.sqs;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.MarkerIgnoringBase;
import org.slf4j.helpers.MessageFormatter;

/**
 * Everything logged while {@link #capture} runs, at every level: the AWS SDK's records through
 * SLF4J (the test binding {@code org.slf4j.impl.StaticLoggerBinder} makes every SLF4J logger one of
 * these) and Polybus's own through {@link System.Logger}, which goes to {@code java.util.logging}
 * by default. Outside a capture the SLF4J loggers are disabled, so other tests run as with no
 * binding. One capture at a time.
 */
public final class CapturedLog {
  /**
   * One log record: the logger's name, its level and the formatted message with any exception's
   * text.
   */
  public record Entry(String logger, Level level, String text) {}

  private static final ConcurrentMap<String, Logger> LOGGERS = new ConcurrentHashMap<>();
  private static volatile List<Entry> sink; // null: not capturing

  private CapturedLog() {}

  public static Logger logger(String name) {
    return LOGGERS.computeIfAbsent(name, Slf4jLogger::new);
  }

  /**
   * Runs {@code action} with every logger at its most verbose level and returns what was logged
   * meanwhile.
   */
  static synchronized List<Entry> capture(ThrowingRunnable action) throws Exception {
    List<Entry> entries = new CopyOnWriteArrayList<>();
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    java.util.logging.Level rootLevel = root.getLevel();
    Handler jul =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            String text = r.getMessage() + (r.getThrown() == null ? "" : " " + r.getThrown());
            entries.add(new Entry(r.getLoggerName(), julLevel(r.getLevel()), text));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.setLevel(java.util.logging.Level.ALL);
    root.setLevel(java.util.logging.Level.ALL);
    root.addHandler(jul);
    sink = entries;
    try {
      action.run();
    } finally {
      sink = null;
      root.removeHandler(jul);
      root.setLevel(rootLevel);
    }
    return new ArrayList<>(entries);
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static Level julLevel(java.util.logging.Level l) {
    int v = l.intValue();
    return v >= 1000
        ? Level.ERROR
        : v >= 900 ? Level.WARN : v >= 800 ? Level.INFO : v >= 500 ? Level.DEBUG : Level.TRACE;
  }

  private static final class Slf4jLogger extends MarkerIgnoringBase {
    private static final long serialVersionUID = 1L;

    Slf4jLogger(String name) {
      this.name = name;
    }

    private boolean on() {
      return sink != null;
    }

    private void log(Level level, Supplier<String> text, Throwable t) {
      List<Entry> s = sink;
      if (s != null) {
        s.add(new Entry(name, level, text.get() + (t == null ? "" : " " + t)));
      }
    }

    private void log(Level level, String format, Object... args) {
      log(
          level,
          () -> MessageFormatter.arrayFormat(format, args).getMessage(),
          MessageFormatter.getThrowableCandidate(args));
    }

    @Override
    public boolean isTraceEnabled() {
      return on();
    }

    @Override
    public void trace(String msg) {
      log(Level.TRACE, () -> msg, null);
    }

    @Override
    public void trace(String format, Object arg) {
      log(Level.TRACE, format, arg);
    }

    @Override
    public void trace(String format, Object a, Object b) {
      log(Level.TRACE, format, a, b);
    }

    @Override
    public void trace(String format, Object... args) {
      log(Level.TRACE, format, args);
    }

    @Override
    public void trace(String msg, Throwable t) {
      log(Level.TRACE, () -> msg, t);
    }

    @Override
    public boolean isDebugEnabled() {
      return on();
    }

    @Override
    public void debug(String msg) {
      log(Level.DEBUG, () -> msg, null);
    }

    @Override
    public void debug(String format, Object arg) {
      log(Level.DEBUG, format, arg);
    }

    @Override
    public void debug(String format, Object a, Object b) {
      log(Level.DEBUG, format, a, b);
    }

    @Override
    public void debug(String format, Object... args) {
      log(Level.DEBUG, format, args);
    }

    @Override
    public void debug(String msg, Throwable t) {
      log(Level.DEBUG, () -> msg, t);
    }

    @Override
    public boolean isInfoEnabled() {
      return on();
    }

    @Override
    public void info(String msg) {
      log(Level.INFO, () -> msg, null);
    }

    @Override
    public void info(String format, Object arg) {
      log(Level.INFO, format, arg);
    }

    @Override
    public void info(String format, Object a, Object b) {
      log(Level.INFO, format, a, b);
    }

    @Override
    public void info(String format, Object... args) {
      log(Level.INFO, format, args);
    }

    @Override
    public void info(String msg, Throwable t) {
      log(Level.INFO, () -> msg, t);
    }

    @Override
    public boolean isWarnEnabled() {
      return on();
    }

    @Override
    public void warn(String msg) {
      log(Level.WARN, () -> msg, null);
    }

    @Override
    public void warn(String format, Object arg) {
      log(Level.WARN, format, arg);
    }

    @Override
    public void warn(String format, Object a, Object b) {
      log(Level.WARN, format, a, b);
    }

    @Override
    public void warn(String format, Object... args) {
      log(Level.WARN, format, args);
    }

    @Override
    public void warn(String msg, Throwable t) {
      log(Level.WARN, () -> msg, t);
    }

    @Override
    public boolean isErrorEnabled() {
      return on();
    }

    @Override
    public void error(String msg) {
      log(Level.ERROR, () -> msg, null);
    }

    @Override
    public void error(String format, Object arg) {
      log(Level.ERROR, format, arg);
    }

    @Override
    public void error(String format, Object a, Object b) {
      log(Level.ERROR, format, a, b);
    }

    @Override
    public void error(String format, Object... args) {
      log(Level.ERROR, format, args);
    }

    @Override
    public void error(String msg, Throwable t) {
      log(Level.ERROR, () -> msg, t);
    }
  }
}
