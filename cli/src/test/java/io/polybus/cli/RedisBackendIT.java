package io.polybus.cli;

import java.nio.file.Path;

/** The round trips on Redis Streams at 127.0.0.1:6379 (started by scripts/services/redis.sh). */
class RedisBackendIT extends BackendRoundTripIT {
  @Override
  String uri(Path dir) {
    return "redis://127.0.0.1:6379";
  }

  @Override
  String idle() {
    return "3s";
  }
}
