-- Written by hand. The previous migration dropped `app_membership_role` in the same
-- release that stopped calling it: during a rolling deploy, API instances of the previous
-- release still call it on every organization request. It comes back for one release
-- (expand, then contract), now ignoring a membership being removed like its successor
-- `app_membership_access`. A migration of a later release drops it (ADR 018).
CREATE FUNCTION "app_membership_role"("org" uuid, "member" uuid) RETURNS "membership_role"
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT "role" FROM public."memberships"
  WHERE "organization_id" = "org" AND "user_id" = "member" AND "removal_requested_at" IS NULL
$$;
REVOKE ALL ON FUNCTION "app_membership_role"(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_membership_role"(uuid, uuid) TO "groundwork_app";
