-- Written by hand. The outbox relay learns of a committed message at once instead of at
-- its next poll (ADR 038): every statement that inserts into outbox_messages queues a
-- notification on the channel "outbox_messages". Postgres delivers it to the listening
-- workers when the transaction commits, never when it rolls back, and folds the same
-- channel and payload into one per transaction, however many rows or statements wrote
-- to the outbox. A statement that inserts no row notifies too: a pass that finds nothing.
-- The payload stays empty: any login to the database may LISTEN on any channel, so
-- nothing of a message (its organization, its job) may go into it. A worker that hears
-- it claims through outbox_claim, as on a poll.
-- It runs with the rights of the inserting login (not SECURITY DEFINER): pg_notify needs
-- none, and a trigger function is never called by name, so no role is granted it.
CREATE FUNCTION "outbox_messages_notify"() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('outbox_messages', '');
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION "outbox_messages_notify"() FROM PUBLIC;
CREATE TRIGGER "outbox_messages_notify" AFTER INSERT ON "outbox_messages"
  FOR EACH STATEMENT EXECUTE FUNCTION "outbox_messages_notify"();
