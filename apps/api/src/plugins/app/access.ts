import { hashSecret, type SessionScope, validateSessionToken } from '@repo/auth'
import {
  AppError,
  authenticateApiKey,
  errors,
  isApiKey,
  requireRecentAuth,
  resolveMembership,
  roleAtLeast,
} from '@repo/core'
import type { MembershipRole, Session, User } from '@repo/db'
import { addToLogContext } from '@repo/observability'
import type { ApiKeyScope } from '@repo/schemas'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { CachedMembership, CachedSession } from '../../lib/access-cache.ts'

/**
 * Who may call a route, declared next to the route (`config: { access }`):
 * - `public`: anyone;
 * - `authenticated`: a signed-in user;
 * - `{ organizationRole }`: a member of the route's `:orgId` organization with at least
 *   that role. Not a member: 404 (another tenant's ids do not exist for you). Lower role: 403.
 */
export type Access =
  | 'public'
  | 'authenticated'
  /** Operators of the platform (users.platform_admin), for queues and dead letters. */
  | 'platformAdmin'
  | {
      organizationRole: MembershipRole /** Organization API keys with this scope may call it too. */
      apiKeyScope?: ApiKeyScope
      /**
       * Still answers while the organization is being deleted (reading its state, asking
       * again). Every other route of such an organization answers 409.
       */
      duringDeletion?: true
    }

export interface AuthContext {
  userId: string
  sessionId: string
  user: User
  session: Session
}

export interface TenantRequestContext {
  organizationId: string
  userId: string
  role: MembershipRole
}

const organizationDeleting = () =>
  errors.conflict(
    'organization_deleting',
    'This organization is being deleted: nothing in it can be read or changed.',
  )

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** What a session token looks like (32 random bytes, base64url): nothing else can match one. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/

export interface AccessRuleEntry {
  method: string
  url: string
  access: Access
}

const DEFAULT_ACCESS = Symbol('groundwork.defaultAccess')

/**
 * Gives every route declared in `instance` (an encapsulated plugin) and its children this
 * access rule unless a route declares its own: for third-party route sets (the queue
 * dashboard) whose route options we do not write.
 */
export function setDefaultAccess(instance: FastifyInstance, access: Access) {
  ;(instance as unknown as Record<symbol, Access>)[DEFAULT_ACCESS] = access
}

/**
 * The credential of the request and the session scope it must have: the Authorization
 * header (Bearer: a full session or an API key), or, only on routes that name one
 * (`config.sessionCookie`), that cookie (parsed by @fastify/cookie in the route's context),
 * which must hold a session of the cookie's scope. token undefined: none sent; '': malformed.
 */
function credential(request: FastifyRequest): {
  token: string | undefined
  scope: SessionScope
  fromCookie: boolean
} {
  const header = request.headers.authorization
  const cookie = request.routeOptions.config.sessionCookie
  if (!header && cookie) {
    const cookies = (request as FastifyRequest & { cookies?: Record<string, string | undefined> })
      .cookies
    return { token: cookies?.[cookie.name] || undefined, scope: cookie.scope, fromCookie: true }
  }
  return { token: bearerToken(request), scope: 'full', fromCookie: false }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const [scheme, token, extra] = header.split(' ')
  return scheme?.toLowerCase() === 'bearer' && token && extra === undefined ? token : ''
}

export default fp(
  async function access(fastify: FastifyInstance) {
    fastify.decorateRequest('auth', null)
    fastify.decorateRequest('tenant', null)
    fastify.decorateRequest('apiKey', null)
    const rules: AccessRuleEntry[] = []
    fastify.decorate('accessRules', rules)

    // A route without a declared access rule is a build error, not an open door.
    fastify.addHook('onRoute', function declare(this: FastifyInstance, route) {
      const fallback = (this as unknown as Record<symbol, Access | undefined>)[DEFAULT_ACCESS]
      if (fallback !== undefined && (!route.config || !('access' in route.config)))
        route.config = { ...route.config, access: fallback }
      const access = route.config && 'access' in route.config ? route.config.access : undefined
      if (access === undefined)
        throw new Error(`${route.method} ${route.url} declares no access rule (config.access)`)
      if (typeof access === 'object' && !route.url.includes(':orgId')) {
        throw new Error(
          `${route.method} ${route.url} requires an organization role but has no :orgId`,
        )
      }
      // An organization's route open to anyone signed in would let non-members in: a
      // route with :orgId must name the organization role it needs.
      if (typeof access !== 'object' && route.url.includes(':orgId')) {
        throw new Error(
          `${route.method} ${route.url} has :orgId but access '${access}': declare { organizationRole } so non-members get 404`,
        )
      }
      for (const method of [route.method].flat()) rules.push({ method, url: route.url, access })
    })

    const cache = fastify.accessCache

    /** The session of a token: this instance's copy (ADR 035), else Postgres's (then kept). */
    async function sessionOf(token: string): Promise<CachedSession | null> {
      if (!SESSION_TOKEN.test(token)) return null
      const tokenHash = hashSecret(token)
      const cached = cache.session(tokenHash)
      if (cached) return cached
      const generation = cache.generation()
      const found = await validateSessionToken(fastify.db, fastify.deps.sessionPolicy, token)
      if (found) cache.storeSession(tokenHash, found, generation)
      return found
    }

    /** The caller's membership: this instance's copy, else Postgres's (then kept). */
    async function membershipOf(
      userId: string,
      organizationId: string,
    ): Promise<CachedMembership | null> {
      const cached = cache.membership(userId, organizationId)
      if (cached) return cached
      const generation = cache.generation()
      const found = await resolveMembership(fastify.deps, { userId, organizationId })
      if (found) cache.storeMembership(userId, organizationId, found, generation)
      return found
    }

    /**
     * The whole access check from this instance's memory alone, before any other work:
     * a Bearer session and (for an organization's route) a membership both kept, and the
     * route's rule met. Then the caller is known at once, and every rate-limit tier is
     * counted in one Redis call (rate-limit.ts). Anything else (no copy, an API key, a
     * cookie, a rule not met) is left to the preValidation check below, which answers it.
     */
    fastify.addHook('onRequest', (request, _reply, done) => {
      if (cache.active) resolveFromMemory(request)
      done()
    })

    function resolveFromMemory(request: FastifyRequest): void {
      const rule = request.routeOptions.config?.access
      if (request.is404) return
      // Only the rules decided below: any other (a rule added later) takes the full check.
      if (rule !== 'authenticated' && rule !== 'platformAdmin' && typeof rule !== 'object') return
      const token = bearerToken(request)
      // Session tokens are 43 base64url characters: anything else is never hashed here.
      if (!token || isApiKey(token) || !SESSION_TOKEN.test(token)) return
      const found = cache.session(hashSecret(token))
      if (!found || found.session.scope !== 'full') return
      const caller = `user:${found.user.id}`
      let tenant: TenantRequestContext | null = null
      if (rule === 'platformAdmin' && !found.user.platformAdmin) return
      if (typeof rule === 'object') {
        const organizationId = (request.params as { orgId?: string }).orgId
        if (!organizationId || !UUID.test(organizationId)) return
        const membership = cache.membership(found.user.id, organizationId)
        if (!membership || !roleAtLeast(membership.role, rule.organizationRole)) return
        if (membership.organizationDeleting && !rule.duringDeletion) return
        tenant = { organizationId, userId: found.user.id, role: membership.role }
      }
      request.auth = {
        userId: found.user.id,
        sessionId: found.session.id,
        user: found.user,
        session: found.session,
      }
      request.tenant = tenant
      request.knownCaller = tenant ? { caller, organizationId: tenant.organizationId } : { caller }
    }

    // Before validation: a caller without access learns nothing, not even the body schema.
    // `config.recentAuth`: a sensitive action needs a recent sign-in or step-up. Checked
    // here, before the handler and before an Idempotency-Key replay, so a stale session
    // gets 403 whether or not the same request succeeded earlier. A function decides from
    // the (validated) request when only some requests are sensitive.
    fastify.addHook('preHandler', async (request) => {
      const rule = request.routeOptions.config.recentAuth
      if (!rule) return
      if (typeof rule === 'function' && !rule(request)) return
      // No session to be recent (an API key): the action is for people, not machines.
      if (!request.auth)
        throw new AppError({
          code: 'session_required',
          status: 403,
          userMessage:
            'This action needs a signed-in person with a recent sign-in, not an API key.',
        })
      await requireRecentAuth(fastify.deps, {
        userId: request.auth.userId,
        session: request.auth.session,
      })
    })

    fastify.addHook('preValidation', async (request, reply) => {
      if (request.is404) return
      const rule = request.routeOptions.config.access
      if (rule === undefined) throw errors.forbidden('This route declares no access rule.')
      if (rule === 'public') return
      if (request.knownCaller && request.auth) {
        // Checked from memory in onRequest: only the log context is left to name.
        addToLogContext({ userId: request.auth.userId })
        if (request.tenant) addToLogContext({ organizationId: request.tenant.organizationId })
        return
      }

      const { token, scope, fromCookie } = credential(request)
      if (token === undefined) {
        reply.header('www-authenticate', 'Bearer')
        throw errors.unauthenticated()
      }
      if (token && !fromCookie && isApiKey(token))
        return authorizeApiKey(request, reply, rule, token)
      const found = token ? await sessionOf(token) : null
      // A session opens only what its scope names: a dashboard session is not a Bearer token.
      if (!found || found.session.scope !== scope) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw errors.unauthenticated('Your session has expired or is not valid. Sign in again.')
      }
      request.auth = {
        userId: found.user.id,
        sessionId: found.session.id,
        user: found.user,
        session: found.session,
      }
      // From here on every line of this request names who made it.
      addToLogContext({ userId: found.user.id })
      if (rule === 'authenticated') return
      if (rule === 'platformAdmin') {
        if (!found.user.platformAdmin) throw errors.forbidden('This is for platform operators.')
        return
      }

      const organizationId = (request.params as { orgId?: string }).orgId
      if (organizationId === undefined) {
        throw new Error(
          `${request.routeOptions.url} requires an organization role but has no :orgId`,
        )
      }
      // Not even a well-formed id: no organization of yours, same answer as another tenant's.
      if (!UUID.test(organizationId)) throw errors.notFound('The organization')
      const membership = await membershipOf(found.user.id, organizationId)
      if (!membership) throw errors.notFound('The organization')
      if (!roleAtLeast(membership.role, rule.organizationRole)) {
        throw errors.forbidden(`This needs the ${rule.organizationRole} role or higher.`)
      }
      // Closed the moment its deletion is asked for, while a job empties it.
      if (membership.organizationDeleting && !rule.duringDeletion) throw organizationDeleting()
      request.tenant = { organizationId, userId: found.user.id, role: membership.role }
      addToLogContext({ organizationId })
    })

    /**
     * Machine clients: an organization API key works only on routes that name a scope for
     * keys (`apiKeyScope`), only for its own organization (another's ids: 404), and only
     * with that scope granted (403). It acts with the route's role, on behalf of its creator.
     */
    async function authorizeApiKey(
      request: FastifyRequest,
      reply: FastifyReply,
      rule: Exclude<Access, 'public'>,
      token: string,
    ) {
      const key = await authenticateApiKey(fastify.deps, token)
      if (!key) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw errors.unauthenticated('This API key is not valid, was revoked or has expired.')
      }
      if (typeof rule !== 'object' || !rule.apiKeyScope)
        throw errors.forbidden('API keys cannot use this route.')
      const organizationId = (request.params as { orgId?: string }).orgId
      if (!organizationId || organizationId !== key.organizationId)
        throw errors.notFound('The organization')
      if (!key.scopes.includes(rule.apiKeyScope))
        throw errors.forbidden(`This API key lacks the ${rule.apiKeyScope} scope.`)
      // A key acts for its creator: it works only while they are a member (not being
      // removed), and not in an organization being deleted, whatever raced its revocation.
      const creator = await resolveMembership(fastify.deps, {
        userId: key.createdById,
        organizationId,
      })
      if (!creator) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw errors.unauthenticated('This API key is not valid, was revoked or has expired.')
      }
      if (creator.organizationDeleting && !rule.duringDeletion) throw organizationDeleting()
      request.apiKey = { id: key.id, scopes: key.scopes }
      request.tenant = { organizationId, userId: key.createdById, role: rule.organizationRole }
      addToLogContext({ organizationId, userId: key.createdById })
    }
  },
  { name: 'access', dependencies: ['core', 'access-cache'] },
)

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route's declared access rule: what the generated access tests walk. */
    accessRules: AccessRuleEntry[]
  }
  interface FastifyContextConfig {
    access?: Access
    /**
     * The route needs a recent sign-in or step-up (true), or does when the function says
     * so for this request (e.g. only when it changes a URL).
     */
    recentAuth?: boolean | ((request: FastifyRequest) => boolean)
    /**
     * A cookie that may carry a session instead of Authorization, and the scope that
     * session must have (the queue dashboard's: only its routes read it).
     */
    sessionCookie?: { name: string; scope: SessionScope }
  }
  interface FastifyRequest {
    auth: AuthContext | null
    tenant: TenantRequestContext | null
    /** Set when an organization API key (not a user session) made the request. */
    apiKey: { id: string; scopes: string[] } | null
  }
}
