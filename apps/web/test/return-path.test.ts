import { describe, expect, it } from 'vitest'
import { HOME_PATH, safeReturnPath } from '../lib/return-path.ts'

describe('safeReturnPath', () => {
  it.each([
    '/orgs/123/projects',
    '/orgs/123/projects?status=active&sort=-name',
    '/account#sessions',
    '/',
  ])('keeps the path inside the app %s', (path) => {
    expect(safeReturnPath(path)).toBe(path)
  })

  it.each([
    ['another origin', 'https://evil.example/orgs'],
    ['a scheme-relative URL', '//evil.example/orgs'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['a backslash later on', '/orgs\\..\\\\evil.example'],
    ['a tab inside the slashes', '/\t/evil.example'],
    ['a newline', '/orgs\n//evil.example'],
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['a relative path', 'orgs'],
    ['an empty value', ''],
    ['a number', 42],
    ['an array', ['/orgs']],
    ['undefined', undefined],
    ["the app's machinery", '/_next/static/chunk.js'],
    ['a huge value', `/${'a'.repeat(5_000)}`],
  ])('refuses %s', (_name, value) => {
    expect(safeReturnPath(value)).toBe(HOME_PATH)
  })

  it('normalises dot segments without leaving the site', () => {
    expect(safeReturnPath('/orgs/../../evil')).toBe('/evil')
  })

  it('uses the fallback given', () => {
    expect(safeReturnPath('//evil.example', '/account')).toBe('/account')
  })
})
