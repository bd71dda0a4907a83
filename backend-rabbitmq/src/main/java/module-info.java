/** The RabbitMQ Polybus backend ({@code rabbitmq://}, {@code amqp://}, {@code amqps://}). */
module io.polybus.rabbitmq {
  requires io.polybus.api;
  requires com.rabbitmq.client;

  provides io.polybus.spi.BackendProvider with
      io.polybus.rabbitmq.RabbitMqBackendProvider;
}
