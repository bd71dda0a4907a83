/** The PostgreSQL Polybus backend ({@code postgres://}, {@code postgresql://}, or a DataSource). */
module io.polybus.postgres {
  requires io.polybus.api;
  requires transitive java.sql;
  requires org.postgresql.jdbc;

  exports io.polybus.postgres;

  provides io.polybus.spi.BackendProvider with
      io.polybus.postgres.PostgresBackendProvider;
}
