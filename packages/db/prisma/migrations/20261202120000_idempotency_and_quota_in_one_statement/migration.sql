-- Written by hand. A keyed write (Idempotency-Key, ADR 009) claimed its key and stored its
-- answer in a transaction each: BEGIN with the presented scope hash, the statement, COMMIT,
-- three round trips apiece. Each is one statement now, sent on its own (autocommit): the
-- function presents the scope hash for its own duration (its SET clause restores the
-- setting on exit) and does what the two or three statements did. A create under a quota
-- locked its organization and counted in two statements; one function does both. All run
-- as their caller (no definer rights): row-level security applies as before, and nothing
-- is granted that the caller lacked (ADR 041).

-- Claims a key: inserts the claim, or, when the key exists, returns the row as it is for
-- the caller to decide (replay, 409, 422 or take-over). A concurrent first claim of the
-- same key is waited for by the insert, and the read that follows (a statement of its own
-- in a VOLATILE function, so with a snapshot of its own) sees it committed. No row back:
-- the key was purged between the two, and the caller retries. The row's id is random
-- (gen_random_uuid): nothing orders keys by it.
CREATE FUNCTION "app_claim_idempotency_key"(
  "scope" bpchar,
  "organization" uuid,
  "request" bpchar,
  "claim_locked_until" timestamptz,
  "claim_expires_at" timestamptz
)
  RETURNS TABLE (
    "claimed" boolean,
    "known_request_hash" bpchar,
    "known_status" integer,
    "known_headers" jsonb,
    "known_body" bytea,
    "known_locked_until" timestamptz,
    "known_expires_at" timestamptz,
    "known_effect_committed_at" timestamptz
  )
  LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
  SET "app.secret_hash" = ''
AS $$
BEGIN
  PERFORM set_config('app.secret_hash', "scope"::text, true);
  INSERT INTO public."idempotency_keys"
    ("id", "organization_id", "scope_hash", "request_hash", "locked_until", "expires_at")
  VALUES (gen_random_uuid(), "organization", "scope", "request", "claim_locked_until", "claim_expires_at")
  ON CONFLICT ("scope_hash") DO NOTHING;
  IF FOUND THEN
    RETURN QUERY SELECT true, NULL::bpchar, NULL::integer, NULL::jsonb, NULL::bytea,
      NULL::timestamptz, NULL::timestamptz, NULL::timestamptz;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT false, k."request_hash", k."response_status", k."response_headers", k."response_body",
      k."locked_until", k."expires_at", k."effect_committed_at"
    FROM public."idempotency_keys" k
    WHERE k."scope_hash" = "scope";
END
$$;
REVOKE ALL ON FUNCTION "app_claim_idempotency_key"(bpchar, uuid, bpchar, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_claim_idempotency_key"(bpchar, uuid, bpchar, timestamptz, timestamptz) TO "groundwork_app";

-- Stores the (sealed) answer of a claim this request still holds; returns 1 if it did.
-- A request that outlived its lock and was taken over stores nothing.
CREATE FUNCTION "app_store_idempotency_answer"(
  "scope" bpchar,
  "claim_locked_until" timestamptz,
  "status" integer,
  "headers" jsonb,
  "body" bytea
)
  RETURNS integer LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
  SET "app.secret_hash" = ''
AS $$
DECLARE
  stored integer;
BEGIN
  PERFORM set_config('app.secret_hash', "scope"::text, true);
  UPDATE public."idempotency_keys"
  SET "response_status" = "status", "response_headers" = "headers", "response_body" = "body"
  WHERE "scope_hash" = "scope" AND "locked_until" = "claim_locked_until"
    AND "response_status" IS NULL;
  GET DIAGNOSTICS stored = ROW_COUNT;
  RETURN stored;
END
$$;
REVOKE ALL ON FUNCTION "app_store_idempotency_answer"(bpchar, timestamptz, integer, jsonb, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_store_idempotency_answer"(bpchar, timestamptz, integer, jsonb, bytea) TO "groundwork_app";

-- A claimed request that did not succeed: frees the key if the request changed nothing
-- ('released'), else stores its answer as app_store_idempotency_answer does ('stored'),
-- so a retry is told what happened rather than repeating a committed change; 'lost' when
-- the claim is no longer held.
CREATE FUNCTION "app_release_idempotency_key"(
  "scope" bpchar,
  "claim_locked_until" timestamptz,
  "status" integer,
  "headers" jsonb,
  "body" bytea
)
  RETURNS text LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
  SET "app.secret_hash" = ''
AS $$
BEGIN
  PERFORM set_config('app.secret_hash', "scope"::text, true);
  DELETE FROM public."idempotency_keys"
  WHERE "scope_hash" = "scope" AND "locked_until" = "claim_locked_until"
    AND "response_status" IS NULL AND "effect_committed_at" IS NULL;
  IF FOUND THEN
    RETURN 'released';
  END IF;
  IF public."app_store_idempotency_answer"("scope", "claim_locked_until", "status", "headers", "body") = 1 THEN
    RETURN 'stored';
  END IF;
  RETURN 'lost';
END
$$;
REVOKE ALL ON FUNCTION "app_release_idempotency_key"(bpchar, timestamptz, integer, jsonb, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_release_idempotency_key"(bpchar, timestamptz, integer, jsonb, bytea) TO "groundwork_app";

-- Locks the organization row, the lock that serialises creates against the project quota
-- (NO KEY: inserts referencing the organization are not blocked), then counts its
-- projects. Two statements in a VOLATILE function: the count takes its snapshot after the
-- lock is held, so it sees every project a create that held the lock before committed.
-- Runs in the caller's transaction and tenant context, after the insert, whose foreign
-- key already proved the organization exists.
CREATE FUNCTION "app_lock_organization_count_projects"("organization" uuid)
  RETURNS integer LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  PERFORM 1 FROM public."organizations" WHERE "id" = "organization" FOR NO KEY UPDATE;
  RETURN (SELECT count(*) FROM public."projects" WHERE "organization_id" = "organization");
END
$$;
REVOKE ALL ON FUNCTION "app_lock_organization_count_projects"(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_lock_organization_count_projects"(uuid) TO "groundwork_app";
