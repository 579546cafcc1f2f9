export {
  API_KEY_SCOPES,
  type ApiKeyScope,
  authenticateApiKey,
  createApiKey,
  isApiKey,
  listApiKeys,
  revokeApiKey,
} from './api-keys.ts'
export { AppError, errors, isAppError } from './app-error.ts'
export { recordAudit } from './audit.ts'
export { changePassword } from './change-password.ts'
export type { CoreDeps, RequestMeta } from './context.ts'
export { createOrganization } from './create-organization.ts'
export { deleteOrganization } from './delete-organization.ts'
export { getOrganization } from './get-organization.ts'
export {
  acceptInvitation,
  createInvitation,
  listInvitations,
  resendInvitation,
  revokeInvitation,
} from './invitations.ts'
export { listOrganizations } from './list-organizations.ts'
export { listSessions } from './list-sessions.ts'
export { type ActingMember, changeMemberRole, listMembers, removeMember } from './members.ts'
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
export { encodeCursor, type Page, type PageRequest, pageQuery, toPage } from './pagination.ts'
export { requestPasswordReset, resetPassword } from './password-reset.ts'
export { renameOrganization } from './rename-organization.ts'
export { resolveMembership, roleAtLeast } from './resolve-membership.ts'
export { revokeOtherSessions, revokeSession } from './revoke-session.ts'
export {
  assertSignInAllowed,
  clearSignInFailures,
  recordSignInFailure,
  signInThrottleKey,
  type ThrottleStore,
} from './sign-in-throttle.ts'
export { invalidCredentials, signInUser } from './sign-in-user.ts'
export { signOutUser } from './sign-out-user.ts'
export { type SignUpInput, signUpUser } from './sign-up-user.ts'
export {
  invalidLink,
  resendEmailVerification,
  sendEmailVerification,
  verifyEmail,
} from './verify-email.ts'
