-- Written by hand. A transaction that commits a request's change while the request holds
-- an Idempotency-Key claim also marks the claim "effect committed" (ADR 009). That took
-- two statements, two round trips: presenting the claim's scope hash (the only way its
-- row becomes visible under row-level security), then the update. This function does both
-- in one statement (ADR 037). It runs as its caller (not a definer function): the update
-- passes the same policy as before, and the function grants nothing the caller lacks.
-- The presented hash lasts only for the function (its SET clause restores the setting on
-- exit), so the rest of the transaction sees no more than it did.
CREATE FUNCTION "app_mark_idempotency_effect"("scope" bpchar, "claim_locked_until" timestamptz)
  RETURNS integer LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
  SET "app.secret_hash" = ''
AS $$
DECLARE
  marked integer;
BEGIN
  PERFORM set_config('app.secret_hash', "scope"::text, true);
  UPDATE public."idempotency_keys" SET "effect_committed_at" = now()
  WHERE "scope_hash" = "scope" AND "locked_until" = "claim_locked_until";
  GET DIAGNOSTICS marked = ROW_COUNT;
  RETURN marked;
END
$$;
REVOKE ALL ON FUNCTION "app_mark_idempotency_effect"(bpchar, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_mark_idempotency_effect"(bpchar, timestamptz) TO "groundwork_app";
