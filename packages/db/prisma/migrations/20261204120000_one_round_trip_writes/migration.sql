-- Written by hand. Two checks a write makes before it commits, as statements that raise
-- instead of answering, so that a write sent in one round trip (writeWithTenant, ADR 045)
-- can make them: everything before the pipeline's Sync is one implicit transaction, and
-- an error rolls it all back, where a statement that answers "no" would need the caller
-- to read the answer and roll back itself, a round trip later. Both run as their caller
-- (not definer functions): row-level security applies as it does to the statements they
-- replace, and neither grants anything the caller lacks.

-- The mark of ADR 009, as app_mark_idempotency_effect makes it, or SQLSTATE GWC01 when the
-- claim is no longer the request's (a retry took the key over): the write rolls back.
CREATE FUNCTION "app_require_idempotency_effect"("scope" bpchar, "claim_locked_until" timestamptz)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
  IF public."app_mark_idempotency_effect"("scope", "claim_locked_until") <> 1 THEN
    RAISE EXCEPTION 'the Idempotency-Key claim was taken over by a retry'
      USING ERRCODE = 'GWC01';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION "app_require_idempotency_effect"(bpchar, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_require_idempotency_effect"(bpchar, timestamptz) TO "groundwork_app";

-- The project quota of ADR 041 and ADR 044: the organization's row locked (NO KEY: the
-- inserts that reference it are not blocked), and the count it keeps read under the lock
-- (READ COMMITTED: after a wait, the row as the holder committed it). One more project
-- past "quota_limit" raises SQLSTATE GWQ01. The project being created is not in the count:
-- the count is of committed projects, and this one is added when the transaction commits,
-- still under the lock.
CREATE FUNCTION "app_take_project_quota"("org_id" uuid, "quota_limit" integer)
  RETURNS void LANGUAGE plpgsql VOLATILE
  SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
  held integer;
BEGIN
  SELECT o."project_count" INTO held FROM public."organizations" o
  WHERE o."id" = "org_id" FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    -- The insert's foreign key proved the row is there: only a caller that skipped it
    -- (or another tenant's id) gets here.
    RAISE EXCEPTION 'the organization is not visible to this tenant';
  END IF;
  IF held + 1 > "quota_limit" THEN
    RAISE EXCEPTION 'the organization''s quota of % projects is reached', "quota_limit"
      USING ERRCODE = 'GWQ01';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION "app_take_project_quota"(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_take_project_quota"(uuid, integer) TO "groundwork_app";
