-- AlterTable
ALTER TABLE "webhook_deliveries" ADD COLUMN     "queued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_queued_at_idx" ON "webhook_deliveries"("status", "queued_at");

-- Written by hand. Existing deliveries were last queued when they were created (or, for
-- one sent again, at its newest attempt at the latest).
UPDATE "webhook_deliveries" SET "queued_at" = GREATEST("created_at", COALESCE("last_attempt_at", "created_at"));

-- A delivery is lost when it is still pending long after it was last queued, not after it
-- was created: one sent again on request days later must not be ended by the next sweep.
CREATE OR REPLACE FUNCTION "webhook_deliveries_sweep"("keep_days" integer, "stuck_hours" integer, OUT "deleted" integer, OUT "expired" integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH gone AS (
    DELETE FROM public."webhook_deliveries"
    WHERE "status" <> 'pending' AND "created_at" < now() - make_interval(days => "keep_days")
    RETURNING 1),
  lost AS (
    UPDATE public."webhook_deliveries" SET "status" = 'failed', "completed_at" = now()
    WHERE "status" = 'pending' AND "queued_at" < now() - make_interval(hours => "stuck_hours")
    RETURNING 1)
  SELECT (SELECT count(*)::integer FROM gone), (SELECT count(*)::integer FROM lost)
$$;
