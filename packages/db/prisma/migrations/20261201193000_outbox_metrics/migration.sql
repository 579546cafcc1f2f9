-- Written by hand. The worker's metrics report the outbox's backlog and lag (ADR 029):
-- how many messages are not yet relayed, and how old the oldest of them is. Only counts
-- leave the table (pending messages carry single-use links), through this definer
-- function, granted to the worker's role alone like the relay's own. The partial index
-- on unpublished messages answers both from its first entry and its size.
CREATE FUNCTION "outbox_stats"(OUT "backlog" integer, OUT "oldest_age_seconds" double precision)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT count(*)::integer,
         coalesce(extract(epoch FROM now() - min("created_at")), 0)::double precision
  FROM public."outbox_messages"
  WHERE "published_at" IS NULL
$$;
REVOKE ALL ON FUNCTION "outbox_stats"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "outbox_stats"() TO "groundwork_worker";
