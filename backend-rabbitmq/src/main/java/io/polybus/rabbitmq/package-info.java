/**
 * The RabbitMQ backend ({@code rabbitmq://}, {@code amqp://}, {@code amqps://}).
 *
 * <p>A topic is a durable fanout exchange; a group is a durable quorum queue bound to it (or, with
 * {@code partitions=N}, N quorum queues with a single active consumer each, fed by key hash).
 * Publishing uses publisher confirms and persistent messages; delayed retries wait in per-delay
 * wait queues that dead-letter back into the group's queue; dead letters are published by the
 * shared runtime with their reason headers. Names: {@link io.polybus.rabbitmq.RabbitNames}; message
 * mapping: {@link io.polybus.rabbitmq.AmqpMapping}.
 *
 * <p>Only {@link io.polybus.rabbitmq.RabbitMqBackendProvider} is public, for the {@link
 * java.util.ServiceLoader}; use it through {@code Polybus.connect("rabbitmq://...")}.
 */
package io.polybus.rabbitmq;
