export {
  type AccessChange,
  type AccessChanges,
  accessChangesChannel,
  announceAccessChange,
  decodeAccessChange,
  encodeAccessChange,
  redisAccessChanges,
} from './access-changes.ts'
export {
  auditActor,
  isOperator,
  type OperatorActor,
  type OrganizationActor,
} from './actor.ts'
export {
  authenticateApiKey,
  createApiKey,
  isApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from './api-keys.ts'
export { AppError, errors, isAppError } from './app-error.ts'
export { pruneAuditLog, recordAudit } from './audit.ts'
export { changePassword } from './change-password.ts'
export { clearLockouts, type LockoutStore, type LockoutTarget } from './clear-lockouts.ts'
export { clientNetwork } from './client-network.ts'
export type { CoreDeps, RequestMeta } from './context.ts'
export { createOrganization } from './create-organization.ts'
export { createProject, insertProject, newProject } from './create-project.ts'
export { createTask } from './create-task.ts'
export { deleteExpiredCredentials } from './delete-expired-credentials.ts'
export { deleteOrganization, purgeOrganization } from './delete-organization.ts'
export { deleteProject } from './delete-project.ts'
export { deleteTask } from './delete-task.ts'
export { openEmailLink, sealEmailLink } from './email-links.ts'
export { type Account, getAccount } from './get-account.ts'
export { getOrganization } from './get-organization.ts'
export { getProject } from './get-project.ts'
export { getTask } from './get-task.ts'
export {
  type Claim,
  claimIdempotencyKey,
  completeIdempotencyKey,
  hashIdempotentRequest,
  type IdempotencyClaim,
  type IdempotencyScope,
  idempotencyKeyInUse,
  keyWithAnswer,
  purgeExpiredIdempotencyKeys,
  releaseIdempotencyKey,
  type StoredResponse,
} from './idempotency.ts'
export {
  processStripeEvent,
  receiveStripeEvent,
  type StripeEventLike,
} from './incoming-webhooks.ts'
export {
  acceptInvitation,
  createInvitation,
  listInvitations,
  resendInvitation,
  revokeInvitation,
} from './invitations.ts'
export { type ListAuditLogInput, listAuditLog } from './list-audit-log.ts'
export { listOAuthAccounts } from './list-oauth-accounts.ts'
export { listOrganizations } from './list-organizations.ts'
export { type ListProjectsInput, listProjects } from './list-projects.ts'
export { listSessions } from './list-sessions.ts'
export { type ListTasksInput, listTasks } from './list-tasks.ts'
export { RATE_LIMIT_KEY_PREFIX } from './lockout-keys.ts'
export {
  DEFAULT_MAINTENANCE_MESSAGE,
  DEFAULT_MAINTENANCE_MS,
  endMaintenance,
  InvalidMaintenanceState,
  MAINTENANCE_KEY,
  MAX_MAINTENANCE_MS,
  type MaintenanceWindow,
  readMaintenance,
  secondsLeft,
  startMaintenance,
} from './maintenance-mode.ts'
export {
  type ActingMember,
  changeMemberRole,
  finishMemberRemoval,
  listMembers,
  MEMBER_REMOVAL_BATCH,
  removeMember,
} from './members.ts'
export {
  completeMfaChallenge,
  confirmTotp,
  disableMfa,
  hasMfa,
  requireRecentAuth,
  type SecondFactor,
  STEP_UP_WINDOW_MS,
  setupTotp,
  startMfaChallenge,
  stepUp,
  verifySecondFactor,
} from './mfa.ts'
export { finishOAuth, type OAuthProviderName, startOAuth } from './oauth.ts'
export {
  addManyToOutbox,
  addToOutbox,
  claimOutbox,
  markOutboxPublished,
  type OutboxMessage,
  outboxStats,
  releaseOutbox,
  sweepOutbox,
} from './outbox.ts'
export {
  CREATED_AT,
  encodeCursor,
  NEWEST_FIRST,
  type Page,
  type PageRequest,
  pageQuery,
  type SortOrder,
  sortOrder,
  toPage,
} from './pagination.ts'
export { requestPasswordReset, resetPassword } from './password-reset.ts'
export { guardedLookup, type NameResolver, postWebhook } from './post-webhook.ts'
export { type ExpectedVersion, quotaExceeded, versionMismatch } from './preconditions.ts'
export {
  type ProjectChanges,
  type ProjectView,
  projectView,
} from './project-fields.ts'
export { renameOrganization } from './rename-organization.ts'
export { requestBackup } from './request-backup.ts'
export { resolveMembership, roleAtLeast } from './resolve-membership.ts'
export { type OperatorTarget, resourceOrganization } from './resource-organization.ts'
export { revokeOtherSessions, revokeSession } from './revoke-session.ts'
export { findUser, revokeUserSessions } from './revoke-user-sessions.ts'
export {
  claimSignInAttempt,
  clearSignInFailures,
  signInThrottleKey,
  type ThrottleStore,
} from './sign-in-throttle.ts'
export { invalidCredentials, signInUser } from './sign-in-user.ts'
export { signOutUser } from './sign-out-user.ts'
export { type SignUpInput, signUpUser } from './sign-up-user.ts'
export {
  type TaskChanges,
  taskView,
} from './task-fields.ts'
export { unlinkOAuthAccount } from './unlink-oauth-account.ts'
export { updateProfile } from './update-profile.ts'
export { updateProject } from './update-project.ts'
export { updateTask } from './update-task.ts'
export {
  invalidLink,
  resendEmailVerification,
  sendEmailVerification,
  verifyEmail,
} from './verify-email.ts'
export { CIRCUIT_DEFAULTS, type CircuitSettings } from './webhook-circuit.ts'
export {
  type DeliveryOutcome,
  type DeliverySlots,
  deliverWebhook,
  fanOutWebhookEvent,
  sweepWebhookDeliveries,
  type WebhookDeliveryDeps,
} from './webhook-delivery.ts'
export {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookDelivery,
  getWebhookEndpoint,
  listWebhookDeliveries,
  listWebhookEndpoints,
  MAX_WEBHOOK_ENDPOINTS,
  openWebhookSecret,
  redeliverWebhook,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  type WebhookEndpointChanges,
} from './webhook-endpoints.ts'
export {
  emitWebhookEvent,
  emitWebhookEvents,
  projectEventData,
  taskEventData,
} from './webhook-events.ts'
export { deliveryPriority } from './webhook-priority.ts'
export {
  type AllowedTarget,
  checkWebhookUrl,
  isAllowedTarget,
  isPublicAddress,
  type TargetPolicy,
} from './webhook-url.ts'
