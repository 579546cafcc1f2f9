-- Written by hand, after review.
-- 1. A published message keeps no payload: email payloads carry single-use links, and
--    the outbox must not become a second place tokens live (rows stay a week for audit).
-- 2. A failed publish backs off (1 s per failed attempt, at most a minute) instead of
--    being claimable again at once, so an outage cannot make the relay spin.
CREATE OR REPLACE FUNCTION "outbox_mark_published"("ids" uuid[]) RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH done AS (
    UPDATE public."outbox_messages"
    SET "published_at" = now(), "claimed_until" = NULL, "last_error" = NULL, "data" = '{}'::jsonb
    WHERE "id" = ANY("ids") AND "published_at" IS NULL RETURNING 1)
  SELECT count(*)::integer FROM done
$$;

CREATE OR REPLACE FUNCTION "outbox_release"("message" uuid, "error" text) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  UPDATE public."outbox_messages"
  SET "claimed_until" = now() + make_interval(secs => least("publish_attempts", 60)),
      "last_error" = left("error", 1000)
  WHERE "id" = "message" AND "published_at" IS NULL
$$;
