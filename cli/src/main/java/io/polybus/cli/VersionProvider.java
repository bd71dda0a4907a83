package io.polybus.cli;

import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: the version in the jar's manifest (set by the build).
 *
 * <p>Stateless; thread-safe.
 */
public final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = PolybusCli.class.getPackage().getImplementationVersion();
    return new String[] {
      "polybus " + (v == null ? "(development build)" : v),
      "Java " + System.getProperty("java.version")
    };
  }
}
