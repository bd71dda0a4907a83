/** The Redis Streams Polybus backend ({@code redis://}, {@code rediss://}). */
module io.polybus.redis {
  requires io.polybus.api;
  requires redis.clients.jedis;
  requires org.apache.commons.pool2;

  provides io.polybus.spi.BackendProvider with
      io.polybus.redis.RedisBackendProvider;
}
