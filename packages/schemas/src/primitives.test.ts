import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import {
  emailSchema,
  idSchema,
  nameSchema,
  PASSWORD_MAX_LENGTH,
  passwordSchema,
  textSchema,
  titleSchema,
  tokenSchema,
} from './primitives.ts'
import { dateSchema } from './tasks.ts'

/** The messages a form would show for `value`, or [] when it is accepted. */
const problems = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value)
  return result.success ? [] : result.error.issues.map((issue) => issue.message)
}

// Text people type, or paste from a hostile source, must reach the database as text:
// these are accepted unchanged, never interpreted.
const injections = [
  "Robert'); DROP TABLE tasks;--",
  '<script>alert(1)</script>',
  '{{constructor.constructor("alert(1)")()}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder must stay plain text
  '${process.exit()}',
  '../../etc/passwd',
  'Ünïcödé 名前 🚀',
]
const wrongTypes = [undefined, null, 42, true, {}, [], ['a']]

// Free text takes anything printable; ids, tokens and addresses have formats of their own.
const freeText = { titleSchema: nameSchema, textSchema: textSchema(100), passwordSchema }
const formatted = { emailSchema, idSchema, tokenSchema }

describe.each(Object.entries({ ...freeText, ...formatted }))('%s', (_, schema) => {
  it.each(wrongTypes)('refuses a value that is not a string: %j', (value) => {
    expect(problems(schema, value)).not.toEqual([])
  })
})

describe.each(Object.entries(freeText))('%s', (_, schema) => {
  it.each(injections)('passes %j through as text', (value) => {
    expect(schema.parse(value)).toBe(value)
  })
})

describe('titleSchema (names and titles)', () => {
  it('trims, and keeps what is inside', () => {
    expect(nameSchema.parse('  Acme  Inc \n')).toBe('Acme  Inc')
  })

  it.each(['', '   ', '\t\n '])('refuses %j as missing', (value) => {
    expect(problems(nameSchema, value)).toContain('is required')
  })

  it.each(['a\u0000b', 'line\nbreak', 'tab\there', 'bell\u0007', 'delete\u007f'])(
    'refuses control characters: %j',
    (value) => {
      expect(problems(nameSchema, value)).toContain('must not contain control characters')
    },
  )

  it.each(['\u200b', '\u200b\u200c\u200d', '\u2060\ufeff', ' \u200b '])(
    'refuses text of invisible characters only: %j',
    (value) => {
      expect(problems(nameSchema, value)).toContain('must contain visible characters')
    },
  )

  it('counts the limit after trimming', () => {
    expect(problems(titleSchema(5), '  abcde  ')).toEqual([])
    expect(problems(titleSchema(5), 'abcdef')).not.toEqual([])
    expect(problems(nameSchema, 'x'.repeat(100))).toEqual([])
    expect(problems(nameSchema, 'x'.repeat(101))).not.toEqual([])
  })
})

describe('textSchema (descriptions)', () => {
  const description = textSchema(50)

  it('trims, and allows line breaks and tabs inside', () => {
    expect(description.parse('  first\r\n\tsecond  ')).toBe('first\r\n\tsecond')
  })

  it('allows empty text: a description is optional content', () => {
    expect(description.parse('   ')).toBe('')
  })

  it.each([
    'a\u0000b',
    'bell\u0007',
    'vertical\u000btab',
    'form\u000cfeed',
    'escape\u001b[31m',
    'delete\u007f',
  ])('refuses other control characters: %j', (value) => {
    expect(problems(description, value)).toContain(
      'must not contain control characters other than line breaks and tabs',
    )
  })

  it('bounds the length', () => {
    expect(problems(description, 'x'.repeat(50))).toEqual([])
    expect(problems(description, 'x'.repeat(51))).not.toEqual([])
  })
})

describe('emailSchema', () => {
  it('trims before checking', () => {
    expect(emailSchema.parse('  ada@example.com \n')).toBe('ada@example.com')
  })

  it.each([
    '',
    '   ',
    'ada',
    'ada@',
    '@example.com',
    'ada@example',
    'ada @example.com',
    "x@example.com'; DROP TABLE users;--",
    'a\u0000@example.com',
  ])('refuses %j', (value) => {
    expect(problems(emailSchema, value)).toContain('must be an email address')
  })

  it('bounds the length (254, the longest address SMTP carries)', () => {
    const local = 'a'.repeat(64)
    const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`
    expect(`${local}@${domain}`).toHaveLength(254)
    expect(problems(emailSchema, `${local}@${domain}`)).toEqual([])
    expect(problems(emailSchema, `${local}@x${domain}`)).not.toEqual([])
  })
})

describe('passwordSchema', () => {
  it('keeps the password exactly as typed: spaces are part of it', () => {
    expect(passwordSchema.parse('  secret phrase  ')).toBe('  secret phrase  ')
  })

  it('refuses an empty one', () => {
    expect(problems(passwordSchema, '')).toEqual(['is required'])
  })

  it('bounds the work a password can cause, above the policy ceiling', () => {
    expect(problems(passwordSchema, 'x'.repeat(PASSWORD_MAX_LENGTH * 4))).toEqual([])
    expect(problems(passwordSchema, 'x'.repeat(PASSWORD_MAX_LENGTH * 4 + 1))).not.toEqual([])
  })
})

describe('idSchema and tokenSchema', () => {
  it('accepts a UUID, and nothing else as an id', () => {
    expect(problems(idSchema, '0192f0c1-7a3b-7cde-8f01-23456789abcd')).toEqual([])
    for (const value of ['', '1', "1' OR '1'='1", '0192f0c1-7a3b-7cde-8f01-23456789abcdx', 7]) {
      expect(problems(idSchema, value)).not.toEqual([])
    }
    expect(problems(idSchema, 'nope')).toEqual(['must be a UUID'])
  })

  it('takes a token of 1 to 200 characters', () => {
    expect(problems(tokenSchema, 'x')).toEqual([])
    expect(problems(tokenSchema, 'x'.repeat(200))).toEqual([])
    expect(problems(tokenSchema, '')).not.toEqual([])
    expect(problems(tokenSchema, 'x'.repeat(201))).not.toEqual([])
  })
})

describe('dateSchema (due dates)', () => {
  it('takes a calendar day', () => {
    expect(dateSchema.parse('2030-02-28')).toBe('2030-02-28')
  })

  it.each(['', '2030-02-30', '2030-2-1', '30-02-2030', '2030-02-28T00:00:00Z', 20300228])(
    'refuses %j',
    (value) => {
      expect(problems(dateSchema, value)).toContain('must be a date (YYYY-MM-DD)')
    },
  )

  it('refuses year 0, which Postgres cannot store', () => {
    expect(problems(dateSchema, '0000-12-31')).toEqual(['must be in year 1 or later'])
    expect(problems(dateSchema, '0001-01-01')).toEqual([])
  })
})
