import { z } from 'zod'

// What fast-json-stringify compiles for a zod response schema, and which schemas it would
// not serialize as zod does (ADR 039).

export type JsonSchema = Record<string, unknown>

/**
 * Zod schema types whose JSON Schema fast-json-stringify writes exactly as zod's encode
 * and JSON.stringify would, for every value zod accepts. Anything else (dates, bigints,
 * pipes, transforms and codecs, tuples, intersections, maps, sets, catch...) stays on zod.
 */
const FAITHFUL_TYPES = new Set([
  'string',
  'number',
  'boolean',
  'null',
  'literal',
  'enum',
  'object',
  'array',
  'union',
  'nullable',
  'optional',
  'nonoptional',
  'readonly',
  'default',
  'prefault',
  'record',
  'unknown',
  'any',
  'never',
  'lazy',
])

interface Def {
  type: string
  format?: string
  checks?: Array<{ _zod: { def: { check: string } } }>
  catchall?: z.core.$ZodType
  keyType?: z.core.$ZodType
  options?: z.core.$ZodType[]
}

const defOf = (schema: z.core.$ZodType) => schema._zod.def as unknown as Def
const hasCheck = (schema: z.core.$ZodType, check: string) =>
  defOf(schema).checks?.some((c) => c._zod.def.check === check) ?? false

/** Every schema nested in `schema`, itself included (each once: lazy schemas recurse). */
function* walk(
  schema: z.core.$ZodType,
  seen = new Set<z.core.$ZodType>(),
): Generator<z.core.$ZodType> {
  if (seen.has(schema)) return
  seen.add(schema)
  yield schema
  const def = schema._zod.def as unknown as Record<string, unknown>
  const children = [
    def.innerType,
    def.element,
    def.keyType,
    def.valueType,
    def.catchall,
    def.in,
    def.out,
    def.left,
    def.right,
    ...(Array.isArray(def.options) ? def.options : []),
    ...(Array.isArray(def.items) ? def.items : []),
    ...Object.values((def.shape as Record<string, unknown> | undefined) ?? {}),
    def.type === 'lazy' ? (def.getter as () => unknown)() : undefined,
  ]
  for (const child of children)
    if (child instanceof z.core.$ZodType) yield* walk(child as z.core.$ZodType, seen)
}

/** What in a union branch ajv may judge otherwise than zod, if anything. */
function branchRisk(schema: z.core.$ZodType): string | undefined {
  const def = defOf(schema)
  if (def.type === 'string' && (def.format || def.checks?.length)) return 'a string check'
  for (const check of def.checks ?? []) {
    if (check._zod.def.check === 'custom') return 'a refinement'
    if (check._zod.def.check === 'multiple_of') return 'a multipleOf check'
  }
  return undefined
}

/** Why fast-json-stringify would not write what zod writes for this node, if it would not. */
function unfaithful(schema: z.core.$ZodType): string | undefined {
  const def = defOf(schema)
  if (!FAITHFUL_TYPES.has(def.type)) return `${def.type} has no faithful JSON Schema`
  // trim(), toLowerCase() and the like rewrite the value as zod encodes it.
  if (hasCheck(schema, 'overwrite')) return 'a check rewrites the value (trim, case)'
  if (def.type === 'record' && def.keyType) {
    const keyType = defOf(def.keyType).type
    if (!['string', 'enum', 'literal'].includes(keyType)) return `record keys of type ${keyType}`
  }
  if (def.type === 'union') {
    // fast-json-stringify picks a union's branch by validating it with ajv, which cannot run
    // a refinement, counts string lengths in code points where zod counts UTF-16 units, and
    // reads formats, Unicode patterns and multipleOf its own way: with any of them in a
    // branch, the branch it picks could be another than zod's.
    for (const option of def.options ?? [])
      for (const nested of walk(option)) {
        const risk = branchRisk(nested)
        if (risk) return `a union branch has ${risk}`
      }
  }
  return undefined
}

/** Keywords whose value is a schema, a list of schemas, or a map of names to schemas. */
const SCHEMA_KEYWORDS = ['items', 'additionalProperties', 'propertyNames', 'not']
const SCHEMA_LIST_KEYWORDS = ['anyOf', 'oneOf', 'allOf']
const SCHEMA_MAP_KEYWORDS = ['properties', 'definitions']

const isSchema = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * `{ anyOf: [X, { type: 'null' }] }` as X with `nullable: true`, at every depth:
 * fast-json-stringify then writes null, or X, without asking ajv which branch a value
 * is (faster, and X's formats and patterns are never checked by another validator).
 */
function collapseNullable(schema: JsonSchema): JsonSchema {
  const node: JsonSchema = { ...schema }
  for (const keyword of SCHEMA_KEYWORDS)
    if (isSchema(node[keyword])) node[keyword] = collapseNullable(node[keyword])
  for (const keyword of SCHEMA_LIST_KEYWORDS)
    if (Array.isArray(node[keyword]))
      node[keyword] = node[keyword].map((branch) =>
        isSchema(branch) ? collapseNullable(branch) : branch,
      )
  for (const keyword of SCHEMA_MAP_KEYWORDS)
    if (isSchema(node[keyword]))
      node[keyword] = Object.fromEntries(
        Object.entries(node[keyword]).map(([name, value]) => [
          name,
          isSchema(value) ? collapseNullable(value) : value,
        ]),
      )
  const anyOf = node.anyOf
  if (!Array.isArray(anyOf) || anyOf.length !== 2) return node
  const nullIndex = anyOf.findIndex(
    (branch) => isSchema(branch) && Object.keys(branch).length === 1 && branch.type === 'null',
  )
  const other = anyOf[1 - nullIndex]
  if (nullIndex === -1 || !isSchema(other) || typeof other.type !== 'string') return node
  // Only a plain schema: fast-json-stringify reads a union, a reference or a constant
  // before it looks at `nullable`.
  if (['anyOf', 'oneOf', 'allOf', '$ref', 'const', 'enum', 'nullable'].some((k) => k in other))
    return node
  const { anyOf: _, ...siblings } = node
  return { ...siblings, ...other, nullable: true }
}

/**
 * The JSON Schema fast-json-stringify compiles for a zod response schema (zod 4's own
 * conversion, `io: 'output'`, draft-07 as fast-json-stringify's ajv reads it), or an error
 * saying why it would not serialize as zod does.
 */
export function responseJsonSchema(schema: z.core.$ZodType): JsonSchema {
  const problems: string[] = []
  const json = z.toJSONSchema(schema, {
    target: 'draft-07',
    io: 'output',
    unrepresentable: 'throw',
    cycles: 'ref',
    reused: 'inline',
    // No ids: every schema inline, not $ref'd to OpenAPI components.
    metadata: z.registry<Record<string, unknown>>(),
    override: ({ zodSchema, jsonSchema, path }) => {
      const problem = unfaithful(zodSchema)
      if (problem) problems.push(`${path.join('.') || 'the response'}: ${problem}`)
      // zod's encode requires a value where a default is declared; fast-json-stringify would
      // write the default instead of failing.
      delete jsonSchema.default
      const def = defOf(zodSchema)
      // A stripping object (zod's default) drops unknown keys, as fast-json-stringify does
      // without `additionalProperties`; `false` would also make ajv refuse the branch of a
      // union that zod accepts. A strict object (catchall never) keeps its `false`.
      if (def.type === 'object' && !def.catchall && jsonSchema.additionalProperties === false)
        delete jsonSchema.additionalProperties
    },
  }) as JsonSchema
  if (problems.length > 0) throw new Error(problems.join('; '))
  const { $schema: _, ...body } = json
  return collapseNullable(body)
}
