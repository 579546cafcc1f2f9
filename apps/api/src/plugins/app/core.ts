import {
  configurePasswordHashing,
  githubProvider,
  googleProvider,
  type OAuthProvider,
} from '@repo/auth'
import { secretsKey } from '@repo/config'
import { type CoreDeps, redisAccessChanges } from '@repo/core'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ApiEnv } from '../../env.ts'

/** What business functions in @repo/core need, built once from config. */
export default fp(
  async function core(fastify: FastifyInstance) {
    configurePasswordHashing({
      concurrency: fastify.config.PASSWORD_HASH_CONCURRENCY,
      maxQueued: fastify.config.PASSWORD_HASH_QUEUE,
    })
    fastify.decorate('deps', {
      appUrl: fastify.config.APP_URL,
      oauthProviders: oauthProviders(fastify.config),
      // Development and tests use a fixed, public key; production must set its own (env check).
      secretsKey: secretsKey(fastify.config),
      webhooks: {
        allowPrivateTargets: fastify.config.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
        allowedPrivateTargets: fastify.config.WEBHOOKS_ALLOWED_PRIVATE_TARGETS,
        secretGraceMs: fastify.config.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000,
      },
      logger: fastify.log,
      quotas: {
        projectsPerOrganization: fastify.config.QUOTA_PROJECTS_PER_ORGANIZATION,
        tasksPerProject: fastify.config.QUOTA_TASKS_PER_PROJECT,
      },
      db: fastify.db,
      redis: fastify.redis,
      // This instance forgets at once; the others when Redis brings them the announcement.
      accessChanges: redisAccessChanges({
        redis: fastify.redis,
        logger: fastify.log,
        onLocal: (change) => fastify.accessCache.forget(change),
      }),
      sessionPolicy: {
        idleTimeoutMs: fastify.config.SESSION_IDLE_TIMEOUT_HOURS * 3_600_000,
        absoluteLifetimeMs: fastify.config.SESSION_ABSOLUTE_LIFETIME_DAYS * 86_400_000,
      },
    } satisfies CoreDeps)
  },
  { name: 'core', dependencies: ['db', 'redis', 'access-cache'] },
)

/** The providers whose client id and secret are configured; the browser returns to the web app. */
function oauthProviders(env: ApiEnv): Partial<Record<OAuthProvider['name'], OAuthProvider>> {
  const redirectUri = (name: string) =>
    new URL(`/auth/oauth/${name}/callback`, env.APP_URL).toString()
  const providers: Partial<Record<OAuthProvider['name'], OAuthProvider>> = {}
  if (env.GITHUB_CLIENT_ID && env.GITHUB_CLIENT_SECRET) {
    providers.github = githubProvider({
      clientId: env.GITHUB_CLIENT_ID,
      clientSecret: env.GITHUB_CLIENT_SECRET,
      redirectUri: redirectUri('github'),
      authorizeUrl: env.GITHUB_AUTHORIZE_URL,
      tokenUrl: env.GITHUB_TOKEN_URL,
      apiUrl: env.GITHUB_API_URL,
      timeoutMs: env.OAUTH_TIMEOUT_MS,
    })
  }
  if (env.GOOGLE_CLIENT_ID && env.GOOGLE_CLIENT_SECRET) {
    providers.google = googleProvider({
      clientId: env.GOOGLE_CLIENT_ID,
      clientSecret: env.GOOGLE_CLIENT_SECRET,
      redirectUri: redirectUri('google'),
      authorizeUrl: env.GOOGLE_AUTHORIZE_URL,
      tokenUrl: env.GOOGLE_TOKEN_URL,
      apiUrl: env.GOOGLE_USERINFO_URL,
      timeoutMs: env.OAUTH_TIMEOUT_MS,
    })
  }
  return providers
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: CoreDeps
  }
}
