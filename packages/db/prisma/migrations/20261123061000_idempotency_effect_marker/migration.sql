-- AlterTable
ALTER TABLE "idempotency_keys" ADD COLUMN     "effect_committed_at" TIMESTAMPTZ(3);
