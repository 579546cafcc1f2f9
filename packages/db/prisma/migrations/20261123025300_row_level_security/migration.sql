-- Constraints Prisma's schema language cannot express, the application role, and
-- row-level security: the database's own wall between tenants. See docs/security.md.

-- Emails are stored lower-cased; with the unique index they are unique case-insensitively.
ALTER TABLE "users" ADD CONSTRAINT "users_email_lowercase" CHECK ("email" = lower("email"));
ALTER TABLE "users" ADD CONSTRAINT "users_email_shape" CHECK ("email" ~ '^[^@[:space:]]+@[^@[:space:]]+$');
ALTER TABLE "users" ADD CONSTRAINT "users_name_not_blank" CHECK (length(btrim("name")) > 0);
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_name_not_blank" CHECK (length(btrim("name")) > 0);
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_email_lowercase" CHECK ("email" = lower("email"));
ALTER TABLE "invitations" ADD CONSTRAINT "invitations_single_outcome" CHECK ("accepted_at" IS NULL OR "revoked_at" IS NULL);
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_expiry_order" CHECK ("expires_at" <= "absolute_expires_at");
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_has_scopes" CHECK (cardinality("scopes") > 0);
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_action_not_blank" CHECK (length("action") > 0);

-- At most one pending invitation per email and organization.
CREATE UNIQUE INDEX "invitations_pending_email_key" ON "invitations" ("organization_id", "email")
  WHERE "accepted_at" IS NULL AND "revoked_at" IS NULL;

-- The audit log is append-only, whoever asks.
CREATE FUNCTION "audit_logs_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_logs is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_logs_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "audit_logs"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_logs_append_only"();

-- The role the application connects as (through a LOGIN user that is a member of it):
-- no superuser, no BYPASSRLS, owns nothing. Migrations run as the owner.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'groundwork_app') THEN
    CREATE ROLE "groundwork_app" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO "groundwork_app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "groundwork_app";
-- The migration history is not the application's to touch (absent in shadow replays).
DO $$
BEGIN
  IF to_regclass('"_prisma_migrations"') IS NOT NULL THEN
    REVOKE ALL ON "_prisma_migrations" FROM "groundwork_app";
  END IF;
END $$;
REVOKE UPDATE, DELETE, TRUNCATE ON "audit_logs" FROM "groundwork_app";
-- Tables created by later migrations are granted the same way (RLS is still theirs to add).
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "groundwork_app";

-- Tenant context: transaction-local settings the application sets in each unit of work
-- (set_config(..., true)). Unset means no tenant and no user: policies then match nothing.
CREATE FUNCTION "app_current_organization"() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.organization_id', true), '')::uuid
$$;
CREATE FUNCTION "app_current_user"() RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;
-- Policies call these as (SELECT f()): evaluated once per statement, not once per row.
-- A secret presented by a caller (invitation token, API key), hashed: knowing it makes
-- exactly the one row it belongs to visible, before any tenant is known.
CREATE FUNCTION "app_presented_secret"() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.secret_hash', true), '')
$$;

ALTER TABLE "organizations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "organizations" FORCE ROW LEVEL SECURITY;
-- The current organization, and every organization the current user belongs to.
CREATE POLICY "organizations_visible" ON "organizations" FOR SELECT
  USING ("id" = (SELECT app_current_organization())
      OR "id" IN (SELECT "organization_id" FROM "memberships" WHERE "user_id" = (SELECT app_current_user())));
-- A new organization is created inside its own tenant context (its id set first).
CREATE POLICY "organizations_insert" ON "organizations" FOR INSERT
  WITH CHECK ("id" = (SELECT app_current_organization()));
CREATE POLICY "organizations_update" ON "organizations" FOR UPDATE
  USING ("id" = (SELECT app_current_organization())) WITH CHECK ("id" = (SELECT app_current_organization()));
CREATE POLICY "organizations_delete" ON "organizations" FOR DELETE
  USING ("id" = (SELECT app_current_organization()));

ALTER TABLE "memberships" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "memberships" FORCE ROW LEVEL SECURITY;
CREATE POLICY "memberships_tenant" ON "memberships"
  USING ("organization_id" = (SELECT app_current_organization()))
  WITH CHECK ("organization_id" = (SELECT app_current_organization()));
-- A user sees (only) their own memberships in other organizations: "my organizations".
CREATE POLICY "memberships_own" ON "memberships" FOR SELECT
  USING ("user_id" = (SELECT app_current_user()));

ALTER TABLE "invitations" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "invitations" FORCE ROW LEVEL SECURITY;
CREATE POLICY "invitations_tenant" ON "invitations"
  USING ("organization_id" = (SELECT app_current_organization()))
  WITH CHECK ("organization_id" = (SELECT app_current_organization()));
CREATE POLICY "invitations_by_token" ON "invitations" FOR SELECT
  USING ("token_hash" = (SELECT app_presented_secret()));

ALTER TABLE "api_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "api_keys" FORCE ROW LEVEL SECURITY;
CREATE POLICY "api_keys_tenant" ON "api_keys"
  USING ("organization_id" = (SELECT app_current_organization()))
  WITH CHECK ("organization_id" = (SELECT app_current_organization()));
CREATE POLICY "api_keys_by_secret" ON "api_keys" FOR SELECT
  USING ("secret_hash" = (SELECT app_presented_secret()));

ALTER TABLE "audit_logs" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "audit_logs" FORCE ROW LEVEL SECURITY;
CREATE POLICY "audit_logs_read" ON "audit_logs" FOR SELECT
  USING ("organization_id" = (SELECT app_current_organization())
      OR ("organization_id" IS NULL AND "actor_user_id" = (SELECT app_current_user())));
CREATE POLICY "audit_logs_write" ON "audit_logs" FOR INSERT
  WITH CHECK ("organization_id" IS NULL OR "organization_id" = (SELECT app_current_organization()));
