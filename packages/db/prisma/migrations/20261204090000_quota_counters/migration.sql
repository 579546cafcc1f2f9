-- AlterTable
ALTER TABLE "organizations" ADD COLUMN     "project_count" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "projects" ADD COLUMN     "task_count" INTEGER NOT NULL DEFAULT 0;

-- Written by hand. The project and task quotas counted their rows under the parent's lock
-- (an organization's projects, a project's tasks): work that grew with the tenant, inside
-- the section that serialises creates. Each parent now carries its count, kept here by
-- triggers, and a create reads one row instead (ADR 044).
--
-- An insert is counted when its transaction commits (a deferred constraint trigger): a
-- create locks the parent, reads the count and checks the quota last, and the +1 lands at
-- COMMIT while it still holds the lock, so the lock is held no longer than before. A
-- delete is counted by its statement (one UPDATE per parent per statement, however many
-- rows it removed: the purge's batches). A row moved to another parent is counted out of
-- one and into the other. A transaction that rolls back counts nothing.
--
-- The triggers run with their caller's rights: whoever may insert or delete a project in
-- a tenant's context may update that tenant's organization row (the same row-level
-- security context), so no rights are granted. A parent deleted in the same transaction
-- (a cascade) is simply not found.

CREATE FUNCTION "app_count_inserted_project"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."organizations" SET "project_count" = "project_count" + 1
  WHERE "id" = NEW."organization_id";
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER "projects_count_insert" AFTER INSERT ON "projects"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "app_count_inserted_project"();

CREATE FUNCTION "app_count_deleted_projects"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."organizations" o SET "project_count" = o."project_count" - gone."n"
  FROM (SELECT "organization_id", count(*)::integer AS "n" FROM "deleted" GROUP BY 1) gone
  WHERE o."id" = gone."organization_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "projects_count_delete" AFTER DELETE ON "projects"
  REFERENCING OLD TABLE AS "deleted" FOR EACH STATEMENT EXECUTE FUNCTION "app_count_deleted_projects"();

CREATE FUNCTION "app_count_moved_project"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."organizations" SET "project_count" = "project_count" - 1 WHERE "id" = OLD."organization_id";
  UPDATE public."organizations" SET "project_count" = "project_count" + 1 WHERE "id" = NEW."organization_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "projects_count_move" AFTER UPDATE OF "organization_id" ON "projects"
  FOR EACH ROW WHEN (OLD."organization_id" IS DISTINCT FROM NEW."organization_id")
  EXECUTE FUNCTION "app_count_moved_project"();

CREATE FUNCTION "app_count_inserted_task"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."projects" SET "task_count" = "task_count" + 1 WHERE "id" = NEW."project_id";
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER "tasks_count_insert" AFTER INSERT ON "tasks"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "app_count_inserted_task"();

CREATE FUNCTION "app_count_deleted_tasks"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."projects" p SET "task_count" = p."task_count" - gone."n"
  FROM (SELECT "project_id", count(*)::integer AS "n" FROM "deleted" GROUP BY 1) gone
  WHERE p."id" = gone."project_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "tasks_count_delete" AFTER DELETE ON "tasks"
  REFERENCING OLD TABLE AS "deleted" FOR EACH STATEMENT EXECUTE FUNCTION "app_count_deleted_tasks"();

CREATE FUNCTION "app_count_moved_task"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."projects" SET "task_count" = "task_count" - 1 WHERE "id" = OLD."project_id";
  UPDATE public."projects" SET "task_count" = "task_count" + 1 WHERE "id" = NEW."project_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "tasks_count_move" AFTER UPDATE OF "project_id" ON "tasks"
  FOR EACH ROW WHEN (OLD."project_id" IS DISTINCT FROM NEW."project_id")
  EXECUTE FUNCTION "app_count_moved_task"();

-- The counts of the rows already there. Row-level security is forced on these tables for
-- their owner too, and this runs with no tenant set: lifted for the backfill only, inside
-- the migration's transaction.
ALTER TABLE "organizations" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "projects" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "tasks" NO FORCE ROW LEVEL SECURITY;
UPDATE "organizations" o SET "project_count" = c."n"
FROM (SELECT "organization_id", count(*)::integer AS "n" FROM "projects" GROUP BY 1) c
WHERE o."id" = c."organization_id";
UPDATE "projects" p SET "task_count" = c."n"
FROM (SELECT "project_id", count(*)::integer AS "n" FROM "tasks" GROUP BY 1) c
WHERE p."id" = c."project_id";
ALTER TABLE "organizations" FORCE ROW LEVEL SECURITY;
ALTER TABLE "projects" FORCE ROW LEVEL SECURITY;
ALTER TABLE "tasks" FORCE ROW LEVEL SECURITY;

-- The project quota's lock and count were one function (ADR 041) because they were two
-- statements; reading the kept count is one, sent by createProject itself. The function
-- stays for the release that keeps running during the rollout (and after a rollback): it
-- takes the same lock and counts the rows, so old and new instances creating at once
-- still serialise on one lock and agree on the count. A later migration drops it (expand
-- and contract, docs/pipeline.md).
