export { closeDb, createDatabaseClient, type DatabaseConfig, getDb } from './client.ts'
export type {
  ApiKey,
  AuditLog,
  Invitation,
  Membership,
  MembershipRole,
  Organization,
  Session,
  User,
} from './generated/prisma/client.ts'
export { Prisma, type PrismaClient } from './generated/prisma/client.ts'
export { pingDatabase } from './ping.ts'
export { APP_ROLE, ensureAppLogin } from './roles.ts'
export {
  type TenantContext,
  type TenantTransaction,
  withPresentedSecret,
  withTenant,
  withUser,
} from './tenant.ts'
