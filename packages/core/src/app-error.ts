/**
 * The one error type of the product. `message` is for logs; `userMessage` is what a caller
 * may read. The API, worker and web each turn it into their own answer.
 */
export class AppError extends Error {
  override name = 'AppError'
  readonly code: string
  readonly status: number
  readonly userMessage: string
  /** Field-level problems, for 4xx answers that name what was wrong. */
  readonly fields: Array<{ field: string; message: string }> | undefined
  /** For 429 and 503: when the caller may try again (the Retry-After header). */
  readonly retryAfterSeconds: number | undefined

  constructor(options: {
    code: string
    status: number
    userMessage: string
    message?: string
    fields?: Array<{ field: string; message: string }>
    retryAfterSeconds?: number
    cause?: unknown
  }) {
    super(
      options.message ?? options.userMessage,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.code = options.code
    this.status = options.status
    this.userMessage = options.userMessage
    this.fields = options.fields
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError

/** Common shapes, so call sites read as what happened. */
export const errors = {
  invalid: (field: string, message: string) =>
    new AppError({
      code: 'invalid_input',
      status: 400,
      userMessage: 'The request is not valid.',
      fields: [{ field, message }],
    }),
  unauthenticated: (userMessage = 'Sign in to continue.') =>
    new AppError({ code: 'unauthenticated', status: 401, userMessage }),
  forbidden: (userMessage = 'Your role does not allow this.') =>
    new AppError({ code: 'forbidden', status: 403, userMessage }),
  notFound: (what: string) =>
    new AppError({ code: 'not_found', status: 404, userMessage: `${what} was not found.` }),
  conflict: (code: string, userMessage: string) => new AppError({ code, status: 409, userMessage }),
  /** 403 until the account's email address is confirmed; `before` says what waits on it. */
  emailNotVerified: (before: string) =>
    new AppError({
      code: 'email_not_verified',
      status: 403,
      userMessage: `Verify your email address before ${before}.`,
    }),
}
