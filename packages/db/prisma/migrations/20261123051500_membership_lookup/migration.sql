-- Written by hand. Every organization request first asks "what is this user's role
-- here?". Under row-level security that needed a transaction of its own (BEGIN, the
-- user setting, the query, COMMIT): the largest cost of a request (docs/benchmarks.md).
-- This function answers it in one statement. It runs as its owner, so it sees the one
-- membership asked about; it returns only the role, or NULL for "not a member".
CREATE FUNCTION "app_membership_role"("org" uuid, "member" uuid) RETURNS "membership_role"
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT "role" FROM "memberships" WHERE "organization_id" = "org" AND "user_id" = "member"
$$;
REVOKE ALL ON FUNCTION "app_membership_role"(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_membership_role"(uuid, uuid) TO "groundwork_app";
-- FORCE applies row-level security to the owner too (unless it is a superuser): let the
-- owner, and so the function above, read memberships.
CREATE POLICY "memberships_owner_lookup" ON "memberships" FOR SELECT TO CURRENT_USER USING (true);
