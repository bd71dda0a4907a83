/** The Amazon SQS Polybus backend ({@code sqs:}). */
module io.polybus.sqs {
  requires io.polybus.api;
  requires software.amazon.awssdk.services.sqs;
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.awscore;
  requires software.amazon.awssdk.auth;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.http.urlconnection;
  requires software.amazon.awssdk.identity.spi;
  requires software.amazon.awssdk.utils;
  // The SDK logs through SLF4J; Polybus only asks whether the SDK's request signer logs at DEBUG
  // (it then logs secrets).
  requires org.slf4j;

  provides io.polybus.spi.BackendProvider with
      io.polybus.sqs.SqsBackendProvider;
}
