package io.polybus;

/**
 * Where a group that does not exist yet starts reading. An existing group always resumes where it left off.
 * {@link #EARLIEST} only reaches back further than "now" on a backend with {@link Capabilities#replay()}.
 */
public enum StartFrom {
  /** The oldest message the topic still retains. */
  EARLIEST,
  /** Only messages published after the group was created. */
  LATEST
}
