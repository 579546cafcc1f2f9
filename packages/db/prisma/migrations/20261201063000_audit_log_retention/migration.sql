-- Written by hand. The audit log keeps a documented retention (AUDIT_LOG_RETENTION_DAYS)
-- and stays append-only for everyone else: the trigger refuses UPDATE, DELETE and
-- TRUNCATE unless the retention function below is the one deleting, and only the worker's
-- role may run that function. The application's role has no DELETE on the table at all.

CREATE OR REPLACE FUNCTION "audit_logs_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('groundwork.audit_retention', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

-- The table forces row-level security on its owner too: the owner (who runs the retention
-- function) may delete, and only through it (the trigger above).
CREATE POLICY "audit_logs_retention" ON "audit_logs" FOR DELETE TO CURRENT_USER USING (true);

-- Deletes entries older than `keep_days` (at least 30), oldest first, in one statement.
CREATE FUNCTION "audit_logs_prune"("keep_days" integer, OUT "deleted" integer)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF "keep_days" < 30 THEN
    RAISE EXCEPTION 'the audit log keeps at least 30 days, not %', "keep_days";
  END IF;
  PERFORM set_config('groundwork.audit_retention', 'on', true);
  DELETE FROM public."audit_logs" WHERE "created_at" < now() - make_interval(days => "keep_days");
  GET DIAGNOSTICS "deleted" = ROW_COUNT;
  PERFORM set_config('groundwork.audit_retention', 'off', true);
END $$;
REVOKE ALL ON FUNCTION "audit_logs_prune"(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "audit_logs_prune"(integer) TO "groundwork_worker";

-- For the retention's range scan.
CREATE INDEX "audit_logs_created_at_idx" ON "audit_logs"("created_at");
