import { isDeepStrictEqual } from 'node:util'
import fastJsonStringify from 'fast-json-stringify'
import type { FastifySerializerCompiler } from 'fastify'
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type JsonSchema, responseJsonSchema } from './response-json-schema.ts'

/**
 * How responses become JSON (ADR 039):
 * - `compiled` (production): fast-json-stringify, compiled once per route and status from
 *   the JSON Schema of the route's zod response schema. No validation at run time; keys
 *   the schema does not declare are dropped.
 * - `validated` (development, test): zod checks every response against its schema (a
 *   violation is a 500), and the compiled serializer must give the same JSON for it (a
 *   difference is a 500 too), so production never sees an answer its tests did not.
 */
export type ResponseSerialization = 'compiled' | 'validated'

export type Serialize = (data: unknown) => string

/** One route's serializer for one status, as compiled (the ones zod keeps serializing have a reason). */
export interface CompiledResponseSchema {
  method: string
  url: string
  status: string
  schema: z.core.$ZodType
  /** What fast-json-stringify compiled; absent when the schema could not be compiled faithfully. */
  jsonSchema?: JsonSchema
  /** Why zod serializes this one in production too. */
  fallback?: string
  /** What the route's answers in this status go through. */
  serialize: Serialize
}

export interface ResponseSerializerOptions {
  mode: ResponseSerialization
  /** Sees every route's serializer in `compiled` mode, as Fastify compiles it. */
  onCompile?: (compiled: CompiledResponseSchema) => void
}

/** The compiled serializer disagreed with zod on a real answer (development and test only). */
export class ResponseSerializerMismatchError extends Error {
  constructor(where: string, compiled: string, validated: string) {
    const clip = (text: string) => (text.length > 500 ? `${text.slice(0, 500)}...` : text)
    super(
      `${where}: the compiled serializer would answer ${clip(compiled)} in production where zod answers ${clip(validated)}`,
    )
    this.name = 'ResponseSerializerMismatchError'
  }
}

/** The route's schema for this status, or an error Fastify reports as the route's. */
function zodSchemaOf(schema: unknown, where: string): z.core.$ZodType {
  if (schema instanceof z.core.$ZodType) return schema
  throw new Error(`${where}: a response schema must be a zod schema`)
}

type Compilation = { serialize: Serialize; jsonSchema: JsonSchema } | { fallback: string }

function compile(schema: z.core.$ZodType): Compilation {
  try {
    const jsonSchema = responseJsonSchema(schema)
    // fast-json-stringify keeps (and annotates) the schema it is given: give it a copy.
    return { serialize: fastJsonStringify(structuredClone(jsonSchema)), jsonSchema }
  } catch (error) {
    return { fallback: error instanceof Error ? error.message : String(error) }
  }
}

/**
 * Fastify's serializer compiler for zod response schemas: called once per route and
 * status when the route is registered, it returns what turns that route's answers into
 * JSON in the given mode. A schema shared by many routes (problem details) is compiled once.
 */
export function responseSerializerCompiler({
  mode,
  onCompile,
}: ResponseSerializerOptions): FastifySerializerCompiler<z.core.$ZodType> {
  const compilations = new WeakMap<z.core.$ZodType, Compilation>()
  const compiled = (schema: z.core.$ZodType) => {
    let compilation = compilations.get(schema)
    if (!compilation) {
      compilation = compile(schema)
      compilations.set(schema, compilation)
    }
    return compilation
  }
  return (route) => {
    const { method, url } = route
    // Always set for a response schema; the type shares Fastify's request-part signature.
    const status = route.httpStatus ?? 'default'
    const where = `${method} ${url} ${status}`
    const schema = zodSchemaOf(route.schema, where)
    const validated: Serialize = zodSerializerCompiler(route)
    if (mode === 'compiled') {
      const compilation = compiled(schema)
      const entry: CompiledResponseSchema =
        'fallback' in compilation
          ? { method, url, status, schema, serialize: validated, fallback: compilation.fallback }
          : { method, url, status, schema, ...compilation }
      onCompile?.(entry)
      return entry.serialize
    }
    // Compiled on the first answer: a test server never pays for the routes it does not call.
    let production: Serialize | null | undefined
    return (data) => {
      const json = validated(data)
      if (production === undefined) {
        const compilation = compiled(schema)
        // With a fallback, production serializes with zod as well: nothing to compare.
        production = 'fallback' in compilation ? null : compilation.serialize
      }
      if (production === null) return json
      let written: string
      try {
        written = production(data)
      } catch (error) {
        written = `an error (${error instanceof Error ? error.message : String(error)})`
      }
      if (written !== json && !sameJson(written, json))
        throw new ResponseSerializerMismatchError(where, written, json)
      return json
    }
  }
}

/**
 * The same JSON value, whatever the order of object members: fast-json-stringify writes
 * required members first and undeclared ones in the value's order, zod writes the schema's
 * order (and a record's enum keys in enum order).
 */
function sameJson(a: string, b: string): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b))
  } catch {
    return false
  }
}
