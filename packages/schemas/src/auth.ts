import { z } from 'zod'
import { emailSchema, idSchema, nameSchema, passwordSchema, tokenSchema } from './primitives.ts'

export const signUpInput = z
  .object({ email: emailSchema, password: passwordSchema, name: nameSchema })
  .strict()
export type SignUpInput = z.input<typeof signUpInput>

export const signInInput = z.object({ email: emailSchema, password: passwordSchema }).strict()
export type SignInInput = z.input<typeof signInInput>

export const changePasswordInput = z
  .object({ currentPassword: passwordSchema, newPassword: passwordSchema })
  .strict()
export type ChangePasswordInput = z.input<typeof changePasswordInput>

export const verifyEmailInput = z.object({ token: tokenSchema }).strict()
export type VerifyEmailInput = z.input<typeof verifyEmailInput>

export const requestPasswordResetInput = z.object({ email: emailSchema }).strict()
export type RequestPasswordResetInput = z.input<typeof requestPasswordResetInput>

export const confirmPasswordResetInput = z
  .object({ token: tokenSchema, newPassword: passwordSchema })
  .strict()
export type ConfirmPasswordResetInput = z.input<typeof confirmPasswordResetInput>

export const sessionParams = z.object({ sessionId: idSchema })

/** What a user may change of their own profile (PATCH /v1/auth/me). */
export const updateProfileInput = z.object({ name: nameSchema }).strict()
export type UpdateProfileInput = z.input<typeof updateProfileInput>

/** A code from the authenticator app. */
export const totpCodeSchema = z.string().trim().max(16)
export const recoveryCodeSchema = z.string().trim().max(32)

export const confirmTotpInput = z.object({ code: totpCodeSchema }).strict()
export type ConfirmTotpInput = z.input<typeof confirmTotpInput>

/** Finishes a sign-in that answered `mfaRequired`: one of the two codes. */
export const mfaVerifyInput = z
  .object({
    mfaToken: tokenSchema,
    code: totpCodeSchema.optional(),
    recoveryCode: recoveryCodeSchema.optional(),
  })
  .strict()
  .refine((body) => Boolean(body.code || body.recoveryCode), 'code or recoveryCode is required')
export type MfaVerifyInput = z.input<typeof mfaVerifyInput>

/** Step-up takes the second factor, or the password for accounts without two-factor. */
export const stepUpInput = z
  .object({
    code: totpCodeSchema.optional(),
    recoveryCode: recoveryCodeSchema.optional(),
    password: passwordSchema.optional(),
  })
  .strict()
  .refine(
    (body) => Boolean(body.code || body.recoveryCode || body.password),
    'code, recoveryCode or password is required',
  )
export type StepUpInput = z.input<typeof stepUpInput>

export const OAUTH_PROVIDERS = ['github', 'google'] as const
export const oauthProvider = z.enum(OAUTH_PROVIDERS)
export type OAuthProvider = z.output<typeof oauthProvider>
export const oauthParams = z.object({ provider: oauthProvider })

/** The code and state the provider sent back, and the binding `start` answered. */
export const oauthCallbackInput = z
  .object({
    code: z.string().min(1).max(2048),
    state: tokenSchema,
    binding: tokenSchema,
  })
  .strict()
export type OAuthCallbackInput = z.input<typeof oauthCallbackInput>
