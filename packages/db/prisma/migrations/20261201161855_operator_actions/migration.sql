-- AlterTable
ALTER TABLE "api_keys" ADD COLUMN     "secret_rotated_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "audit_logs" ADD COLUMN     "actor_operator" VARCHAR(100);

-- Written by hand. The operations CLI (`pnpm ops`, docs/decisions/025) acts as the
-- platform's on-call operator: a person who is no user of any organization. The audit log
-- names them in actor_operator; an entry has at most one actor (none: the system).
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_one_actor"
  CHECK ("actor_user_id" IS NULL OR "actor_operator" IS NULL);
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_actor_operator_not_blank"
  CHECK (length(btrim("actor_operator")) > 0);

-- An operator names an API key or a webhook endpoint by its id alone (from a support
-- ticket, a log line); everything else about it is its organization's. This function
-- answers only which organization that is, so the CLI can then work in that tenant's
-- context like the API does. Granted to the worker's role only (the CLI connects with the
-- worker's login): the API, which faces the internet, cannot ask.
CREATE FUNCTION "ops_resource_organization"("kind" text, "resource" uuid) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE "kind"
    WHEN 'api_key' THEN (SELECT "organization_id" FROM public."api_keys" WHERE "id" = "resource")
    WHEN 'webhook_endpoint' THEN
      (SELECT "organization_id" FROM public."webhook_endpoints" WHERE "id" = "resource")
  END
$$;
REVOKE ALL ON FUNCTION "ops_resource_organization"(text, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "ops_resource_organization"(text, uuid) TO "groundwork_worker";
-- FORCE applies row-level security to the owner too: let the owner, and so the function
-- above, read these two tables.
CREATE POLICY "api_keys_owner_lookup" ON "api_keys" FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY "webhook_endpoints_owner_lookup" ON "webhook_endpoints" FOR SELECT TO CURRENT_USER USING (true);
