-- CreateTable
CREATE TABLE "idempotency_keys" (
    "id" UUID NOT NULL,
    "organization_id" UUID,
    "scope_hash" CHAR(64) NOT NULL,
    "request_hash" CHAR(64) NOT NULL,
    "response_status" INTEGER,
    "response_headers" JSONB,
    "response_body" BYTEA,
    "locked_until" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "idempotency_keys_scope_hash_key" ON "idempotency_keys"("scope_hash");

-- CreateIndex
CREATE INDEX "idempotency_keys_organization_id_idx" ON "idempotency_keys"("organization_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_expires_at_idx" ON "idempotency_keys"("expires_at");

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Written by hand: a stored answer is visible only to a caller who presents its scope
-- hash (organization, caller, route and key). No tenant-wide reads: one key, one row.
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_completed_whole"
  CHECK (("response_status" IS NULL) = ("response_body" IS NULL));
ALTER TABLE "idempotency_keys" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "idempotency_keys" FORCE ROW LEVEL SECURITY;
CREATE POLICY "idempotency_keys_by_scope" ON "idempotency_keys"
  USING ("scope_hash" = (SELECT app_presented_secret()))
  WITH CHECK ("scope_hash" = (SELECT app_presented_secret()));

-- Expired keys of every tenant are purged on a schedule. The application role cannot see
-- across tenants, so this one narrow function runs as its owner and does only that.
CREATE FUNCTION "purge_expired_idempotency_keys"() RETURNS integer
  LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
  WITH gone AS (DELETE FROM "idempotency_keys" WHERE "expires_at" < now() RETURNING 1)
  SELECT count(*)::integer FROM gone
$$;
-- FORCE applies row-level security to the owner too (unless it is a superuser): let the
-- owner, and so the function above, reach expired rows and nothing else.
CREATE POLICY "idempotency_keys_expired_for_owner" ON "idempotency_keys" TO CURRENT_USER
  USING ("expires_at" < now());
REVOKE ALL ON FUNCTION "purge_expired_idempotency_keys"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "purge_expired_idempotency_keys"() TO "groundwork_app";
