-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "scope" VARCHAR(30) NOT NULL DEFAULT 'full';

-- Written by hand: the scopes the code knows.
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_scope_known" CHECK ("scope" IN ('full', 'queue_dashboard'));
