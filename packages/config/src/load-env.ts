import type { z } from 'zod'

/** Thrown when the environment does not satisfy a schema; `issues` lists every problem. */
export class EnvError extends Error {
  readonly issues: string[]

  constructor(issues: string[]) {
    super(`Invalid environment:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`)
    this.name = 'EnvError'
    this.issues = issues
  }
}

type Source = Record<string, string | undefined>

/**
 * Parses `source` with `schema` and returns the typed result, or throws an EnvError that
 * names every variable that is missing or wrong (not only the first).
 */
export function parseEnv<T extends z.ZodType>(schema: T, source: Source = process.env): z.infer<T> {
  // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''))
  const result = schema.safeParse(cleaned)
  if (result.success) return result.data
  throw new EnvError(
    result.error.issues.map((issue) => {
      const key = issue.path.join('.') || '(root)'
      const received =
        issue.code === 'invalid_type' && cleaned[key] === undefined ? 'is required' : issue.message
      return `${key}: ${received}`
    }),
  )
}

/**
 * For process entry points: parse, or print the readable list of problems and exit 1.
 * Libraries call parseEnv and let the app decide.
 */
export function loadEnvOrExit<T extends z.ZodType>(
  schema: T,
  source: Source = process.env,
): z.infer<T> {
  try {
    return parseEnv(schema, source)
  } catch (error) {
    if (!(error instanceof EnvError)) throw error
    console.error(`${error.message}\nSee .env.example for every variable and its default.`)
    process.exit(1)
  }
}
