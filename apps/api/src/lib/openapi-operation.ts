import type { Access } from '../plugins/app/access.ts'

/**
 * What the OpenAPI document says about who may call an operation, from the route's
 * declared access rule: nothing for public routes (an explicit empty list), the bearer
 * scheme (session tokens and API keys) for every other. So the API reference and every
 * generated client know which calls need a token.
 */
export function securityOf(access: Access | undefined): Array<Record<string, string[]>> {
  return access === 'public' ? [] : [{ bearer: [] }]
}

/**
 * A stable operationId from the method and path, for routes that do not set their own:
 * `GET /v1/orgs/:orgId/projects` is `getOrgsByOrgIdProjects`. Generated SDKs name their
 * methods after it, so it changes only when the route does.
 */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((segment) => segment && !/^v\d+$/.test(segment))
    .map((segment) => {
      const param = segment.startsWith(':') || segment.startsWith('{')
      const name = segment.replace(/^[:{]|}$/g, '')
      const camel = name.replace(/[-_.]+(\w)/g, (_, letter: string) => letter.toUpperCase())
      const word = camel.charAt(0).toUpperCase() + camel.slice(1)
      return param ? `By${word}` : word
    })
  return `${method.toLowerCase()}${words.join('')}`
}
