-- Written by hand. The worker gets a role of its own: everything the application may
-- do (it is a member of groundwork_app), plus the outbox relay's functions, which the
-- API's login may no longer call. Pending outbox messages carry single-use links; only
-- the process that publishes them can read them.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'groundwork_worker') THEN
    CREATE ROLE "groundwork_worker" NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT;
  END IF;
END $$;
GRANT "groundwork_app" TO "groundwork_worker";

REVOKE EXECUTE ON FUNCTION "outbox_claim"(integer, integer) FROM "groundwork_app";
REVOKE EXECUTE ON FUNCTION "outbox_mark_published"(uuid[]) FROM "groundwork_app";
REVOKE EXECUTE ON FUNCTION "outbox_release"(uuid, text) FROM "groundwork_app";
REVOKE EXECUTE ON FUNCTION "outbox_sweep"(integer, integer) FROM "groundwork_app";
GRANT EXECUTE ON FUNCTION "outbox_claim"(integer, integer) TO "groundwork_worker";
GRANT EXECUTE ON FUNCTION "outbox_mark_published"(uuid[]) TO "groundwork_worker";
GRANT EXECUTE ON FUNCTION "outbox_release"(uuid, text) TO "groundwork_worker";
GRANT EXECUTE ON FUNCTION "outbox_sweep"(integer, integer) TO "groundwork_worker";
