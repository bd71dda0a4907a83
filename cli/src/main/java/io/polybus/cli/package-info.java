/**
 * {@code polybus}, the command-line tool: one picocli command per file ({@code *Command}), the
 * shared pieces beside them ({@link io.polybus.cli.Connection} for the URI, {@link
 * io.polybus.cli.Failures} and {@link io.polybus.cli.ExitCode} for errors, {@code DeliveryStream}
 * for reading without settling). Built as one jar with every backend; see docs/cli.md.
 */
package io.polybus.cli;
