import type { CaptureResult } from 'posthog-js'
import { describe, expect, it } from 'vitest'
import { posthogOptions } from '../lib/telemetry-client.ts'

// What posthog-js is initialised with in every browser: recordings that show a page's
// shape but nothing typed or read, no email address in any event, and no URL with its
// query string (reset, verification and invitation tokens, OAuth codes).
describe("the browser's PostHog options", () => {
  const options = posthogOptions('https://eu.i.posthog.com')

  it('mask every input and all text in session recordings, and element text in autocapture', () => {
    expect(options.session_recording).toMatchObject({ maskAllInputs: true, maskTextSelector: '*' })
    expect(options.mask_all_text).toBe(true)
    expect(options.mask_all_element_attributes).toBe(true)
  })

  it('capture a pageview on every client-side navigation, anonymous until identified', () => {
    expect(options.capture_pageview).toBe('history_change')
    expect(options.person_profiles).toBe('identified_only')
    // The host the server configured for browsers (BROWSER_POSTHOG_HOST).
    expect(options.api_host).toBe('https://eu.i.posthog.com')
  })

  const beforeSend = options.before_send as (event: CaptureResult | null) => CaptureResult | null

  it('remove email addresses from every event', () => {
    const event = {
      uuid: '1',
      event: 'task_created',
      properties: { note: 'from ann@example.com', nested: { who: ['ann%40example.com'] } },
    } as unknown as CaptureResult
    const sent = beforeSend(event)
    expect(JSON.stringify(sent)).not.toMatch(/ann(@|%40)example\.com/)
    expect(sent?.properties.note).toBe('from [email]')
    expect(beforeSend(null)).toBeNull()
  })

  it('send every URL without its query string or fragment, where tokens travel', () => {
    // The properties posthog-js sets on a pageview and on the person (the $initial_* and
    // $session_entry_* copies of the first URL and referrer included).
    const event = {
      uuid: '1',
      event: '$pageview',
      properties: {
        $current_url: 'https://app.example.com/reset-password?token=SECRETVALUE',
        $referrer: 'https://app.example.com/verify-email?token=SECRETVALUE#top',
        $pathname: '/invitations/accept',
        $prev_pageview_pathname: '/invitations/accept?token=SECRETVALUE',
        $session_entry_url: 'https://app.example.com/auth/callback?code=SECRETVALUE&state=s',
        $initial_current_url: 'https://app.example.com/sign-in?email=ann%40example.com',
        $host: 'app.example.com',
        question: 'why? because',
      },
      $set_once: {
        $initial_current_url: 'https://app.example.com/invitations/accept?token=SECRETVALUE',
        $initial_referrer: 'https://mail.example.com/u/0/?token=SECRETVALUE',
      },
      $set: { $current_url: 'https://app.example.com/x?token=SECRETVALUE' },
    } as unknown as CaptureResult
    const sent = beforeSend(event)
    expect(JSON.stringify(sent)).not.toContain('SECRETVALUE')
    expect(JSON.stringify(sent)).not.toMatch(/ann(@|%40)example\.com/)
    expect(sent?.properties).toMatchObject({
      $current_url: 'https://app.example.com/reset-password',
      $referrer: 'https://app.example.com/verify-email',
      $pathname: '/invitations/accept',
      $prev_pageview_pathname: '/invitations/accept',
      $session_entry_url: 'https://app.example.com/auth/callback',
      $initial_current_url: 'https://app.example.com/sign-in',
      $host: 'app.example.com',
      // Text that is not a URL keeps its question mark.
      question: 'why? because',
    })
    expect(sent?.$set_once).toEqual({
      $initial_current_url: 'https://app.example.com/invitations/accept',
      $initial_referrer: 'https://mail.example.com/u/0/',
    })
    expect(sent?.$set).toEqual({ $current_url: 'https://app.example.com/x' })
  })
})
