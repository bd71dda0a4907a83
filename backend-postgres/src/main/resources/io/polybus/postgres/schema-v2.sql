-- Polybus PostgreSQL backend, schema version 2: delayed delivery (docs/backend-postgres.md).
--
-- Applied after version 1, once, the same way. A message published with a delay waits in `scheduled`, not in
-- `messages`; when it is due, a consumer of its topic moves it into `messages` in one statement, and the fan-out
-- trigger gives each group its delivery row then: a delayed message is published at its time.

CREATE TABLE ${schema}.scheduled (
  sid     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  topic   text        NOT NULL,
  due_at  timestamptz NOT NULL,
  id      text        NOT NULL,
  msg_key text,
  payload bytea       NOT NULL,
  headers jsonb       NOT NULL,
  ts      bigint      NOT NULL
);
CREATE INDEX scheduled_due ON ${schema}.scheduled (topic, due_at, sid);

INSERT INTO ${schema}.schema_version (version) VALUES (2);
