/** The Apache Kafka Polybus backend ({@code kafka://}). */
module io.polybus.kafka {
  requires io.polybus.api;
  requires kafka.clients;

  provides io.polybus.spi.BackendProvider with
      io.polybus.kafka.KafkaBackendProvider;
}
