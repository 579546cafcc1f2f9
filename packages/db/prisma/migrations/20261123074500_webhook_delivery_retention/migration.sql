-- The enum's name in the database, snake_case like the others.
ALTER TYPE "WebhookDeliveryStatus" RENAME TO "webhook_delivery_status";

-- Written by hand. The delivery log does not grow forever, and a delivery whose job was
-- lost (a dead letter, a Redis loss) does not stay "pending" forever. The worker's
-- maintenance job calls this across organizations, so it is a SECURITY DEFINER function
-- (pinned search_path, schema-qualified tables) granted only to the worker's role.

-- The tables force row-level security on their owner too: the owner (who runs this
-- function) may act on every row.
CREATE POLICY "webhook_deliveries_owner" ON "webhook_deliveries" TO CURRENT_USER USING (true) WITH CHECK (true);
CREATE POLICY "webhook_delivery_attempts_owner" ON "webhook_delivery_attempts" TO CURRENT_USER USING (true) WITH CHECK (true);

-- Finished deliveries older than `keep_days` go (their attempts with them); deliveries
-- still pending after `stuck_hours` (far past the retry window) are marked failed.
CREATE FUNCTION "webhook_deliveries_sweep"("keep_days" integer, "stuck_hours" integer, OUT "deleted" integer, OUT "expired" integer)
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH gone AS (
    DELETE FROM public."webhook_deliveries"
    WHERE "status" <> 'pending' AND "created_at" < now() - make_interval(days => "keep_days")
    RETURNING 1),
  lost AS (
    UPDATE public."webhook_deliveries" SET "status" = 'failed', "completed_at" = now()
    WHERE "status" = 'pending' AND "created_at" < now() - make_interval(hours => "stuck_hours")
    RETURNING 1)
  SELECT (SELECT count(*)::integer FROM gone), (SELECT count(*)::integer FROM lost)
$$;
REVOKE ALL ON FUNCTION "webhook_deliveries_sweep"(integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "webhook_deliveries_sweep"(integer, integer) TO "groundwork_worker";
