export {
  closeDb,
  createDatabaseClient,
  type DatabaseConfig,
  databasePool,
  getDb,
  type QueryListener,
} from './client.ts'
export { databaseErrorState, SQLSTATE } from './database-errors.ts'
export type {
  ApiKey,
  AuditLog,
  Invitation,
  Membership,
  Organization,
  Project,
  Session,
  Task,
  User,
  WebhookDelivery,
  WebhookDeliveryAttempt,
  WebhookEndpoint,
} from './generated/prisma/client.ts'
export { Prisma, type PrismaClient } from './generated/prisma/client.ts'
export {
  MembershipRole,
  ProjectStatus,
  TaskPriority,
  TaskStatus,
  WebhookDeliveryStatus,
} from './generated/prisma/enums.ts'
export { createDatabaseProbe, type DatabaseProbe } from './ping.ts'
export { APP_ROLE, ensureAppLogin, WORKER_ROLE } from './roles.ts'
export {
  ClaimLostError,
  type HeldClaim,
  KeyKnownError,
  type KeyWithAnswer,
  queryStatement,
  readSqlWithTenant,
  readWithTenant,
  runClaimingKeyInWrite,
  runHoldingClaim,
  stopHoldingClaim,
  type TenantContext,
  type TenantReader,
  type TenantTransaction,
  withNoContext,
  withPresentedSecret,
  withTenant,
  withUser,
  writeWithTenant,
} from './tenant.ts'
