/** The pending MFA challenge of a sign-in: HttpOnly and short-lived, like the session. */
export const MFA_COOKIE = 'groundwork_mfa_challenge'
export const MFA_COOKIE_MAX_AGE_SECONDS = 5 * 60
