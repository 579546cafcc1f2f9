-- AlterTable
ALTER TABLE "mfa_factors" ADD COLUMN     "last_used_step" BIGINT;
