import fastJsonStringify from 'fast-json-stringify'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { problemSchema } from './problem.ts'
import { responseJsonSchema } from './response-json-schema.ts'
import { responseSerializerCompiler } from './serializer.ts'

const route = (schema: z.ZodType) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' })
const compiled = (schema: z.ZodType) =>
  responseSerializerCompiler({ mode: 'compiled' })(route(schema))
const zod = (schema: z.ZodType) => zodSerializerCompiler(route(schema))

describe('the JSON Schema a response schema compiles from', () => {
  it.each<[string, z.ZodType, RegExp]>([
    ['a Date (zod writes toJSON)', z.object({ at: z.date() }), /Date cannot be represented/],
    ['a transform', z.object({ n: z.string().transform((s) => s.length) }), /Transforms/],
    [
      'a codec (encoded the other way round)',
      z.object({
        at: z.codec(z.iso.datetime(), z.date(), {
          decode: (s) => new Date(s),
          encode: (d) => d.toISOString(),
        }),
      }),
      /has no faithful JSON Schema|cannot be represented/,
    ],
    ['a pipe', z.object({ e: z.string().pipe(z.email()) }), /pipe has no faithful JSON Schema/],
    ['a bigint', z.object({ n: z.bigint() }), /BigInt cannot be represented/],
    ['a tuple', z.object({ pair: z.tuple([z.string(), z.number()]) }), /tuple has no faithful/],
    [
      'an intersection',
      z.intersection(z.object({ a: z.string() }), z.object({ b: z.string() })),
      /intersection/,
    ],
    [
      'trim()',
      z.object({ name: z.string().trim() }),
      /properties\.name: a check rewrites the value/,
    ],
    ['toLowerCase()', z.object({ email: z.string().toLowerCase() }), /rewrites the value/],
    ['a record keyed by numbers', z.record(z.number(), z.string()), /record keys of type number/],
    [
      'a union branch with a format',
      z.union([z.object({ id: z.uuid(), a: z.string() }), z.object({ id: z.string() })]),
      /a union branch has a string check/,
    ],
    [
      'a union branch with a length',
      z.union([z.object({ code: z.string().max(3) }), z.object({ other: z.string() })]),
      /a union branch has a string check/,
    ],
    [
      'a union branch with a refinement',
      z.union([z.object({ n: z.number().refine((n) => n > 1) }), z.null()]),
      /a union branch has a refinement/,
    ],
    [
      'a union branch with multipleOf',
      z.union([z.object({ n: z.number().multipleOf(0.1) }), z.object({ m: z.number() })]),
      /a union branch has a multipleOf check/,
    ],
  ])('stays on zod for %s', (_name, schema, reason) => {
    expect(() => responseJsonSchema(schema)).toThrow(reason)
  })

  it('has reason to: ajv picks another union branch than zod for an address zod accepts', () => {
    // What the guard above prevents, compiled without it: ajv's email format refuses a
    // domain label ending in '-', which zod's email accepts, so the second branch is taken.
    const union = z.union([
      z.object({ email: z.email(), name: z.string() }),
      z.object({ email: z.string() }),
    ])
    const json = z.toJSONSchema(union, { target: 'draft-07', io: 'output' }) as {
      anyOf: Array<Record<string, unknown>>
    }
    for (const branch of json.anyOf) delete branch.additionalProperties
    const value = { email: 'ada@example-.com', name: 'Ada' }
    expect(zod(union)(value)).toBe('{"email":"ada@example-.com","name":"Ada"}')
    expect(fastJsonStringify({ anyOf: json.anyOf })(value)).toBe('{"email":"ada@example-.com"}')
  })

  it("drops a stripping object's additionalProperties: false, so a union branch zod accepts with extra keys is picked", () => {
    const session = z.object({ token: z.string() })
    const challenge = z.object({ mfaRequired: z.literal(true), mfaToken: z.string() })
    const union = z.union([session, challenge])
    expect(responseJsonSchema(session)).not.toHaveProperty('additionalProperties')
    const answer = { mfaRequired: true, mfaToken: 't', userId: 'not for the client' }
    expect(compiled(union)(answer)).toBe(zod(union)(answer))
    expect(compiled(union)(answer)).toBe('{"mfaRequired":true,"mfaToken":"t"}')
  })

  it('keeps a strict object strict, and a loose one open (problem details)', () => {
    expect(responseJsonSchema(z.object({ a: z.string() }).strict())).toMatchObject({
      additionalProperties: false,
    })
    const body = { type: 'about:blank', title: 'Conflict', status: 409, retryIn: 3 }
    expect(compiled(problemSchema)(body)).toBe(zod(problemSchema)(body))
    expect(compiled(problemSchema)(body)).toBe(
      '{"type":"about:blank","title":"Conflict","status":409,"retryIn":3}',
    )
  })

  it('does not write a default where zod refuses the missing value', () => {
    const schema = z.object({ a: z.string().default('filled in') })
    expect(responseJsonSchema(schema).properties).toEqual({ a: { type: 'string' } })
    expect(() => zod(schema)({})).toThrow()
    expect(() => compiled(schema)({})).toThrow(/"a" is required/)
  })

  it('writes a nullable value without a union (no ajv between the value and its JSON)', () => {
    const schema = z.object({
      at: z.iso.datetime().nullable(),
      actor: z.object({ id: z.string() }).nullable(),
    })
    const json = responseJsonSchema(schema) as {
      properties: Record<string, Record<string, unknown>>
    }
    expect(json.properties.at).toMatchObject({
      type: 'string',
      format: 'date-time',
      nullable: true,
    })
    expect(json.properties.at).not.toHaveProperty('anyOf')
    expect(json.properties.actor).toMatchObject({ type: 'object', nullable: true })
    for (const value of [
      { at: null, actor: null },
      { at: '2026-01-02T03:04:05.678Z', actor: { id: 'u', email: 'dropped' } },
    ])
      expect(compiled(schema)(value)).toBe(zod(schema)(value))
  })
})
