-- CreateTable
CREATE TABLE "outbox_messages" (
    "id" UUID NOT NULL,
    "organization_id" UUID,
    "queue" VARCHAR(100) NOT NULL,
    "job_name" VARCHAR(200) NOT NULL,
    "data" JSONB NOT NULL,
    "options" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_until" TIMESTAMPTZ(3),
    "publish_attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" VARCHAR(1000),
    "published_at" TIMESTAMPTZ(3),

    CONSTRAINT "outbox_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "outbox_messages_organization_id_idx" ON "outbox_messages"("organization_id");

-- CreateIndex
CREATE INDEX "outbox_messages_published_at_created_at_idx" ON "outbox_messages"("published_at", "created_at");

-- AddForeignKey
ALTER TABLE "outbox_messages" ADD CONSTRAINT "outbox_messages_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Written by hand. The application login may add messages, for its own organization (or
-- none), inside the transaction of the change; it cannot read or change them after.
ALTER TABLE "outbox_messages" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "outbox_messages" FORCE ROW LEVEL SECURITY;
CREATE POLICY "outbox_messages_insert" ON "outbox_messages" FOR INSERT
  WITH CHECK ("organization_id" IS NULL OR "organization_id" = (SELECT app_current_organization()));
-- FORCE applies to the owner too: the definer functions below run as the owner.
CREATE POLICY "outbox_messages_owner" ON "outbox_messages" TO CURRENT_USER USING (true) WITH CHECK (true);
-- Unpublished messages, oldest first: what the relay asks for on every poll.
CREATE INDEX "outbox_messages_unpublished_idx" ON "outbox_messages" ("created_at") WHERE "published_at" IS NULL;

-- The relay, across organizations, through three narrow functions:
-- claim up to `batch` unpublished messages nobody holds, for `lease_ms`. SKIP LOCKED and
-- the lease keep two relays from taking the same message.
CREATE FUNCTION "outbox_claim"("batch" integer, "lease_ms" integer) RETURNS SETOF public."outbox_messages"
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  UPDATE public."outbox_messages" m
  SET "claimed_until" = now() + make_interval(secs => "lease_ms" / 1000.0),
      "publish_attempts" = m."publish_attempts" + 1
  WHERE m."id" IN (
    SELECT "id" FROM public."outbox_messages"
    WHERE "published_at" IS NULL AND ("claimed_until" IS NULL OR "claimed_until" < now())
    ORDER BY "created_at"
    LIMIT "batch"
    FOR UPDATE SKIP LOCKED)
  RETURNING m.*
$$;
-- Mark published (only the claim's own rows: a row whose lease ran out may be elsewhere).
CREATE FUNCTION "outbox_mark_published"("ids" uuid[]) RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH done AS (
    UPDATE public."outbox_messages" SET "published_at" = now(), "claimed_until" = NULL, "last_error" = NULL
    WHERE "id" = ANY("ids") AND "published_at" IS NULL RETURNING 1)
  SELECT count(*)::integer FROM done
$$;
-- Give a message back after a failed publish, with the error, for the next poll.
CREATE FUNCTION "outbox_release"("message" uuid, "error" text) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  UPDATE public."outbox_messages" SET "claimed_until" = NULL, "last_error" = left("error", 1000)
  WHERE "id" = "message" AND "published_at" IS NULL
$$;
-- The sweeper: published messages older than `keep_hours` go; returns the unpublished
-- backlog older than `stuck_seconds` (for an alert) and how many were deleted.
CREATE FUNCTION "outbox_sweep"("keep_hours" integer, "stuck_seconds" integer, OUT "deleted" integer, OUT "stuck" integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH gone AS (
    DELETE FROM public."outbox_messages"
    WHERE "published_at" < now() - make_interval(hours => "keep_hours") RETURNING 1)
  SELECT (SELECT count(*)::integer FROM gone),
         (SELECT count(*)::integer FROM public."outbox_messages"
          WHERE "published_at" IS NULL AND "created_at" < now() - make_interval(secs => "stuck_seconds"))
$$;
REVOKE ALL ON FUNCTION "outbox_claim"(integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION "outbox_mark_published"(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION "outbox_release"(uuid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION "outbox_sweep"(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "outbox_claim"(integer, integer) TO "groundwork_app";
GRANT EXECUTE ON FUNCTION "outbox_mark_published"(uuid[]) TO "groundwork_app";
GRANT EXECUTE ON FUNCTION "outbox_release"(uuid, text) TO "groundwork_app";
GRANT EXECUTE ON FUNCTION "outbox_sweep"(integer, integer) TO "groundwork_app";
