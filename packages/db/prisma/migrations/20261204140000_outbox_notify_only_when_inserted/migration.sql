-- Written by hand. ADR 038's trigger notified for every statement that inserted into
-- outbox_messages, even one that inserted no row. Since ADR 045, a create sends its webhook
-- event as a conditional insert (INSERT ... SELECT ... WHERE an endpoint subscribes), which
-- inserts nothing for an organization with no endpoint: every such create queued a
-- notification, taking Postgres's notification-queue lock (one for the whole cluster) at
-- its commit, and woke every relay for a pass that finds nothing. The trigger now reads
-- the rows the statement inserted (a transition table) and notifies only when there is one.
-- The trigger first (its function ignores the table), then the function that reads it, so
-- an insert between the two statements finds both in step.
CREATE OR REPLACE TRIGGER "outbox_messages_notify" AFTER INSERT ON "outbox_messages"
  REFERENCING NEW TABLE AS "inserted"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_messages_notify"();

CREATE OR REPLACE FUNCTION "outbox_messages_notify"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "inserted") THEN
    PERFORM pg_catalog.pg_notify('outbox_messages', '');
  END IF;
  RETURN NULL;
END
$$;
