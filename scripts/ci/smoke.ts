// The smoke test the deploy pipeline runs against an environment it has just deployed (or
// rolled back): the API is ready and runs the expected commit, an account signs in (and its
// session works and ends), and the web app serves its sign-in page.
//
//   node scripts/ci/smoke.ts --api-url <url> --web-url <url> [--expect-commit <sha>]
//                            [--sign-up] [--timeout <seconds>]
//
// The account: SMOKE_EMAIL and SMOKE_PASSWORD (a dedicated account without two-factor
// sign-in, made once per environment). --sign-up makes a fresh one first instead (preview
// environments, whose database is new). Readiness and the commit are polled until the
// timeout (default 300 s: a rollout may still be replacing pods); every other check runs
// once. Exit 0 when all pass; 1 naming the check that failed; 2 on bad usage.
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

class SmokeFailure extends Error {}
class UsageError extends Error {}

const REQUEST_TIMEOUT_MS = 10_000

interface Answer {
  status: number
  type: string
  text: string
  json: () => Record<string, unknown>
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  let response: Response
  try {
    response = await fetch(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : (cause?.code ?? cause?.message ?? (error as Error).message)
    throw new SmokeFailure(`${init.method ?? 'GET'} ${url}: ${reason}`)
  }
  const text = await response.text()
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text,
    json: () => {
      try {
        return JSON.parse(text) as Record<string, unknown>
      } catch {
        throw new SmokeFailure(`${url} answered ${response.status} with a body that is not JSON`)
      }
    },
  }
}

/** Problem details (RFC 9457) say what went wrong in `detail` or `title`. */
function why(answer: Answer): string {
  if (answer.type.includes('json')) {
    const body = answer.json()
    return String(body.detail ?? body.title ?? answer.text.slice(0, 200))
  }
  return answer.text.slice(0, 200).replace(/\s+/g, ' ')
}

/** Repeats `attempt` until it returns true or the deadline passes; then fails with its last reason. */
async function until(deadline: number, what: string, attempt: () => Promise<string | true>) {
  let reason = ''
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      const result = await attempt()
      if (result === true) return
      reason = result
    } catch (error) {
      if (!(error instanceof SmokeFailure)) throw error
      reason = error.message
    }
    if (Date.now() + delay > deadline)
      throw new SmokeFailure(`${what}: still failing at the deadline: ${reason}`)
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

function check(name: string, started: number) {
  console.log(`ok  ${name} (${Date.now() - started} ms)`)
}

const json = (body: unknown, token?: string): RequestInit => ({
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  },
  body: JSON.stringify(body),
})

async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'api-url': { type: 'string' },
      'web-url': { type: 'string' },
      'expect-commit': { type: 'string' },
      'sign-up': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '300' },
    },
  })
  const url = (name: 'api-url' | 'web-url') => {
    const value = values[name]
    if (!value) throw new UsageError(`--${name} is required`)
    try {
      return new URL(value).toString().replace(/\/$/, '')
    } catch {
      throw new UsageError(`--${name} is not a URL: ${value}`)
    }
  }
  const api = url('api-url')
  const web = url('web-url')
  const seconds = Number(values.timeout)
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--timeout must be a number of seconds (got ${values.timeout})`)
  let email = process.env.SMOKE_EMAIL ?? ''
  let password = process.env.SMOKE_PASSWORD ?? ''
  if (!values['sign-up'] && (!email || !password))
    throw new UsageError(
      'SMOKE_EMAIL and SMOKE_PASSWORD must name the smoke-test account (or pass --sign-up to make one)',
    )
  const deadline = Date.now() + seconds * 1000

  let started = Date.now()
  await until(deadline, `${api}/readyz`, async () => {
    const answer = await request(`${api}/readyz`)
    return answer.status === 200 || `answered ${answer.status}: ${why(answer)}`
  })
  check('API ready (/readyz)', started)

  const expected = values['expect-commit']
  if (expected) {
    started = Date.now()
    await until(deadline, `${api}/version`, async () => {
      const answer = await request(`${api}/version`)
      if (answer.status !== 200) return `answered ${answer.status}`
      const commit = String(answer.json().commit ?? '')
      return commit === expected || `runs commit ${commit}, not ${expected}`
    })
    check(`API runs commit ${expected.slice(0, 12)} (/version)`, started)
  }

  started = Date.now()
  if (values['sign-up']) {
    email = `smoke-${randomBytes(6).toString('hex')}@example.com`
    password = randomBytes(18).toString('base64url')
    const answer = await request(
      `${api}/v1/auth/sign-up`,
      json({ email, password, name: 'Smoke test' }),
    )
    if (answer.status !== 201)
      throw new SmokeFailure(`sign-up answered ${answer.status}: ${why(answer)}`)
    check(`signed up ${email}`, started)
    started = Date.now()
  }
  const signIn = await request(`${api}/v1/auth/sign-in`, json({ email, password }))
  if (signIn.status !== 200)
    throw new SmokeFailure(`sign-in as ${email} answered ${signIn.status}: ${why(signIn)}`)
  const session = signIn.json()
  if (session.mfaRequired)
    throw new SmokeFailure(
      `sign-in as ${email} asks for a second factor: the smoke-test account must not use two-factor sign-in`,
    )
  const token = String(session.token ?? '')
  if (!token) throw new SmokeFailure(`sign-in as ${email} answered no token`)
  const me = await request(`${api}/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })
  if (me.status !== 200 || me.json().email !== email)
    throw new SmokeFailure(
      `the new session does not work: GET /v1/auth/me answered ${me.status}: ${why(me)}`,
    )
  const signOut = await request(`${api}/v1/auth/sign-out`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  })
  if (signOut.status !== 204)
    throw new SmokeFailure(`sign-out answered ${signOut.status}: ${why(signOut)}`)
  check(`signed in as ${email}, used the session and signed out`, started)

  started = Date.now()
  const page = await request(`${web}/sign-in`)
  if (page.status !== 200)
    throw new SmokeFailure(`web app: GET ${web}/sign-in answered ${page.status}`)
  if (!page.type.includes('text/html') || !page.text.includes('Sign in'))
    throw new SmokeFailure(
      `web app: ${web}/sign-in is not the sign-in page (no "Sign in" in its HTML)`,
    )
  check('web app serves its sign-in page', started)
  console.log('smoke test passed')
}

try {
  await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof SmokeFailure) {
    console.error(`FAILED  ${error.message}`)
    process.exitCode = 1
  } else if (
    error instanceof UsageError ||
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  ) {
    console.error((error as Error).message)
    process.exitCode = 2
  } else throw error
}
