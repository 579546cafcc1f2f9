-- AlterTable
ALTER TABLE "memberships" ADD COLUMN     "removal_requested_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "organizations" ADD COLUMN     "deletion_requested_at" TIMESTAMPTZ(3);

-- Written by hand. Deleting an organization, and removing a member with many tasks, are
-- finished by a job in small batches (no transaction grows with the tenant). Access ends
-- the moment either is asked for: the membership lookup of every request ignores a
-- membership being removed, and says when the organization is being deleted (the API
-- then refuses everything in it but reading its state).
CREATE FUNCTION "app_membership_access"("org" uuid, "member" uuid)
  RETURNS TABLE ("role" "membership_role", "organization_deleting" boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT m."role", o."deletion_requested_at" IS NOT NULL
  FROM public."memberships" m JOIN public."organizations" o ON o."id" = m."organization_id"
  WHERE m."organization_id" = "org" AND m."user_id" = "member" AND m."removal_requested_at" IS NULL
$$;
REVOKE ALL ON FUNCTION "app_membership_access"(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "app_membership_access"(uuid, uuid) TO "groundwork_app";
-- FORCE applies row-level security to the owner too: let the owner, and so the function
-- above, read organizations (memberships_owner_lookup does the same for memberships).
CREATE POLICY "organizations_owner_lookup" ON "organizations" FOR SELECT TO CURRENT_USER USING (true);

-- One way to ask: the role-only lookup it replaces goes.
DROP FUNCTION "app_membership_role"(uuid, uuid);
