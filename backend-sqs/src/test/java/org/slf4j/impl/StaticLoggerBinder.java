package org.slf4j.impl;

import io.polybus.sqs.CapturedLog;
import org.slf4j.ILoggerFactory;
import org.slf4j.spi.LoggerFactoryBinder;

/**
 * Test-only SLF4J 1.7 binding (the API version the AWS SDK uses): hands out {@link CapturedLog}
 * loggers, which are enabled at every level while a test captures and silent otherwise, as with no
 * binding at all.
 */
public final class StaticLoggerBinder implements LoggerFactoryBinder {
  /** Read by SLF4J's version check. */
  public static String REQUESTED_API_VERSION =
      "1.7.36"; // NOSONAR: the name and mutability are SLF4J's contract

  private static final StaticLoggerBinder SINGLETON = new StaticLoggerBinder();
  private final ILoggerFactory factory = CapturedLog::logger;

  private StaticLoggerBinder() {}

  public static StaticLoggerBinder getSingleton() {
    return SINGLETON;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public String getLoggerFactoryClassStr() {
    return CapturedLog.class.getName();
  }
}
