-- AlterTable
ALTER TABLE "webhook_endpoints" ADD COLUMN     "circuit_open_until" TIMESTAMPTZ(3),
ADD COLUMN     "failed_attempts_in_row" INTEGER NOT NULL DEFAULT 0;

-- Written by hand.
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_failed_attempts_not_negative" CHECK ("failed_attempts_in_row" >= 0);
