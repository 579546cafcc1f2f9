export {
  githubProvider,
  googleProvider,
  type OAuthProfile,
  type OAuthProvider,
  type OAuthProviderConfig,
} from './oauth-providers.ts'
export {
  configurePasswordHashing,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PasswordHashingBusyError,
  passwordProblem,
  verifyPassword,
} from './password.ts'
export { generateSecret, hashSecret, openText, sealText } from './secrets.ts'
export {
  createSession,
  invalidateSession,
  invalidateUserSessions,
  type SessionMetadata,
  type SessionPolicy,
  type SessionScope,
  validateSessionToken,
} from './sessions.ts'
export {
  currentTotp,
  decryptSecret,
  encryptSecret,
  matchTotp,
  newRecoveryCodes,
  newTotpSecret,
} from './totp.ts'
