-- The "user" policies (a user's own memberships and organizations) exist for the
-- no-tenant-yet context ("my organizations"). They were OR'ed with the tenant policies, so
-- a query in one organization's context that also named the user could see that user's
-- rows in other organizations. Now they apply only when no organization is set.

DROP POLICY "memberships_own" ON "memberships";
CREATE POLICY "memberships_own" ON "memberships" FOR SELECT
  USING ((SELECT app_current_organization()) IS NULL AND "user_id" = (SELECT app_current_user()));

DROP POLICY "organizations_visible" ON "organizations";
CREATE POLICY "organizations_visible" ON "organizations" FOR SELECT
  USING ("id" = (SELECT app_current_organization())
      OR ((SELECT app_current_organization()) IS NULL
          AND "id" IN (SELECT "organization_id" FROM "memberships" WHERE "user_id" = (SELECT app_current_user()))));
