package io.polybus.cli;

import java.nio.file.Path;

/** The round trips on the embedded log, in a temporary directory. */
class LogBackendIT extends BackendRoundTripIT {
  @Override
  String uri(Path dir) {
    return "log:" + dir.resolve("data");
  }

  @Override
  String idle() {
    return "3s";
  }
}
