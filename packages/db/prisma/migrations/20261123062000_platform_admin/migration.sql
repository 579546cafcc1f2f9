-- AlterTable
ALTER TABLE "users" ADD COLUMN     "platform_admin" BOOLEAN NOT NULL DEFAULT false;
