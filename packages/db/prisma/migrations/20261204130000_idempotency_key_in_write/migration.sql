-- Written by hand. A write sent in one round trip (writeWithTenant, ADR 045) by a route
-- that builds its answer before it writes can claim its Idempotency-Key in that write
-- (ADR 046): the key's row is inserted as the pipeline's first statement, already holding
-- the answer and marked "effect committed", so the key, the change and the answer commit
-- together, or none of them does. A key that has a row (a retry, a duplicate, an expired
-- key not yet purged) raises SQLSTATE GWK01 and the write rolls back; the caller then
-- claims as ADR 041 does, which decides between replay, 409, 422 and a take-over.
--
-- A duplicate sent while the first request's write is still running is answered at once,
-- as ADR 041 answers it, not made to wait (holding a connection) for the first to commit:
-- each write that claims a key this way first takes a transaction-level advisory lock on
-- the key without waiting, and raises SQLSTATE GWK02 ("in progress", a 409) when another
-- holds it. The lock is the two-integer form (a keyspace of its own, apart from the
-- single-bigint locks of Prisma's migrations): the hash of 'idempotency_keys', and the
-- first 32 bits of the scope hash; two keys in flight that share those bits make one of
-- them answer 409 and be retried, nothing worse. It ends with the transaction, committed
-- or rolled back, so it never outlives the write (nor crosses PgBouncer's transaction).
--
-- Runs as its caller, presenting the scope hash for its own duration (its SET clause
-- restores the setting), as app_claim_idempotency_key does.
CREATE FUNCTION "app_claim_idempotency_key_with_answer"(
  "scope" bpchar,
  "organization" uuid,
  "request" bpchar,
  "claim_locked_until" timestamptz,
  "claim_expires_at" timestamptz,
  "status" integer,
  "headers" jsonb,
  "body" bytea
)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
  SET "app.secret_hash" = ''
AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('idempotency_keys'),
      ('x' || left("scope", 8))::bit(32)::integer) THEN
    RAISE EXCEPTION 'a request with this Idempotency-Key is still running'
      USING ERRCODE = 'GWK02';
  END IF;
  PERFORM set_config('app.secret_hash', "scope"::text, true);
  INSERT INTO public."idempotency_keys"
    ("id", "organization_id", "scope_hash", "request_hash", "locked_until", "expires_at",
     "response_status", "response_headers", "response_body", "effect_committed_at")
  VALUES (gen_random_uuid(), "organization", "scope", "request", "claim_locked_until",
    "claim_expires_at", "status", "headers", "body", now())
  ON CONFLICT ("scope_hash") DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the Idempotency-Key has a row already' USING ERRCODE = 'GWK01';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION "app_claim_idempotency_key_with_answer"(bpchar, uuid, bpchar, timestamptz, timestamptz, integer, jsonb, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_claim_idempotency_key_with_answer"(bpchar, uuid, bpchar, timestamptz, timestamptz, integer, jsonb, bytea) TO "groundwork_app";
