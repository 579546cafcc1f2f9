-- Written by hand. ADR 044 counted an inserted project or task when its transaction
-- committed, with a deferred constraint trigger: one UPDATE of the parent per row, since
-- Postgres has no deferred statement-level triggers. A statement of n rows under one
-- parent thus updated that parent's row n times in one transaction, and each update
-- walks the chain of row versions the transaction left before it (none can be pruned
-- while it runs): quadratic. 5,000 projects inserted in one statement took 26 s to
-- commit; 500,000 did not commit in 12 minutes. An import, a seed or a copy of an
-- organization would meet it.
--
-- An insert is now counted by its statement, as a delete already is: one UPDATE per
-- parent per statement, however many rows, from the rows the statement inserted (a
-- transition table). The count moves at the insert, so the parent's row is locked from
-- the insert on (ADR 044, amended): app_take_project_quota, which a create sends after its
-- insert, reads a count that already holds the project being created.
--
-- Each old trigger goes and its new one comes in this one transaction, so no insert
-- between them counts twice or not at all. The functions keep their names (the trigger
-- functions and the quota function are replaced, none is dropped): the release running
-- during the rollout calls app_take_project_quota as this one does, and meets the new
-- check with the new count.

-- DROP TRIGGER takes ACCESS EXCLUSIVE on projects, then tasks: every read of them queues
-- behind it while it waits for open transactions. Give up after a few seconds instead (the
-- deploy fails and is run again) rather than stall the API behind a long transaction.
SET LOCAL lock_timeout = '5s';

DROP TRIGGER "projects_count_insert" ON "projects";
CREATE OR REPLACE FUNCTION "app_count_inserted_project"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."organizations" o SET "project_count" = o."project_count" + added."n"
  FROM (SELECT "organization_id", count(*)::integer AS "n" FROM "inserted" GROUP BY 1) added
  WHERE o."id" = added."organization_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "projects_count_insert" AFTER INSERT ON "projects"
  REFERENCING NEW TABLE AS "inserted" FOR EACH STATEMENT EXECUTE FUNCTION "app_count_inserted_project"();

DROP TRIGGER "tasks_count_insert" ON "tasks";
CREATE OR REPLACE FUNCTION "app_count_inserted_task"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  UPDATE public."projects" p SET "task_count" = p."task_count" + added."n"
  FROM (SELECT "project_id", count(*)::integer AS "n" FROM "inserted" GROUP BY 1) added
  WHERE p."id" = added."project_id";
  RETURN NULL;
END
$$;
CREATE TRIGGER "tasks_count_insert" AFTER INSERT ON "tasks"
  REFERENCING NEW TABLE AS "inserted" FOR EACH STATEMENT EXECUTE FUNCTION "app_count_inserted_task"();

-- The project quota (ADR 041, ADR 044, ADR 045), sent after the project's insert in the
-- same transaction: the organization's row is locked (the insert's count already locked
-- it; READ COMMITTED, so after a wait the row as the holder committed it) and its count
-- holds the project being created. Past "quota_limit" raises SQLSTATE GWQ01.
CREATE OR REPLACE FUNCTION "app_take_project_quota"("org_id" uuid, "quota_limit" integer)
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
  IF held > "quota_limit" THEN
    RAISE EXCEPTION 'the organization''s quota of % projects is reached', "quota_limit"
      USING ERRCODE = 'GWQ01';
  END IF;
END
$$;
