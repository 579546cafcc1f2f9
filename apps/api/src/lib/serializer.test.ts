import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { responseSerializerCompiler } from './serializer.ts'

const route = (schema: z.ZodType) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' })
const compiled = (schema: z.ZodType) =>
  responseSerializerCompiler({ mode: 'compiled' })(route(schema))
const validated = (schema: z.ZodType) =>
  responseSerializerCompiler({ mode: 'validated' })(route(schema))
const zod = (schema: z.ZodType) => zodSerializerCompiler(route(schema))

describe('the serializer in each mode', () => {
  const schema = z.object({ name: z.string() })

  it('validated: a value that breaks the schema is an error; compiled: it is coerced', () => {
    expect(() => validated(schema)({ name: 42 })).toThrow(/doesn't match the schema/)
    expect(compiled(schema)({ name: 42 })).toBe('{"name":"42"}')
  })

  it('validated: an answer the compiled serializer would write otherwise is an error', () => {
    // fast-json-stringify writes an undefined array item as `undefined` (not JSON), zod's
    // path as null: the kind of difference only a real value shows.
    const items = z.object({ items: z.array(z.unknown()) })
    expect(compiled(items)({ items: [1, undefined] })).toBe('{"items":[1,undefined]}')
    expect(zod(items)({ items: [1, undefined] })).toBe('{"items":[1,null]}')
    expect(() => validated(items)({ items: [1, undefined] })).toThrow(
      /GET \/x 200: the compiled serializer would answer \{"items":\[1,undefined\]\} in production where zod answers \{"items":\[1,null\]\}/,
    )
    expect(validated(items)({ items: [1, null] })).toBe('{"items":[1,null]}')
  })

  it('validated: the same JSON with keys in another order is not a difference', () => {
    const record = z.record(z.enum(['b', 'a']), z.number())
    expect(zod(record)({ a: 1, b: 2 })).toBe('{"b":2,"a":1}')
    expect(validated(record)({ a: 1, b: 2 })).toBe('{"b":2,"a":1}')
  })

  it('compiled: a schema it cannot compile faithfully is serialized by zod', () => {
    const trimmed = z.object({ name: z.string().trim() })
    const seen: string[] = []
    const serialize = responseSerializerCompiler({
      mode: 'compiled',
      onCompile: (entry) => seen.push(entry.fallback ?? 'compiled'),
    })(route(trimmed))
    expect(serialize({ name: '  padded  ' })).toBe('{"name":"padded"}')
    expect(seen).toEqual(['properties.name: a check rewrites the value (trim, case)'])
  })
})
