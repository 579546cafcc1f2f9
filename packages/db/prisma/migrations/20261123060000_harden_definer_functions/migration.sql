-- Written by hand. A SECURITY DEFINER function runs with its owner's rights, so nothing
-- a caller controls may change what it resolves. With `search_path = public` alone,
-- Postgres still searches the caller's temporary schema first: the application login
-- could shadow a table with a temporary one and run code as the owner. So:
-- 1. the functions name their tables with the schema and put pg_temp explicitly last;
-- 2. no role may create temporary objects in this database unless granted (the
--    application needs none).

CREATE OR REPLACE FUNCTION "app_membership_role"("org" uuid, "member" uuid) RETURNS "membership_role"
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT "role" FROM public."memberships" WHERE "organization_id" = "org" AND "user_id" = "member"
$$;

CREATE OR REPLACE FUNCTION "purge_expired_idempotency_keys"() RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH gone AS (DELETE FROM public."idempotency_keys" WHERE "expires_at" < now() RETURNING 1)
  SELECT count(*)::integer FROM gone
$$;

DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
