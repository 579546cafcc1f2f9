import type { CaptureResult } from 'posthog-js'
import { describe, expect, it } from 'vitest'
import { POSTHOG_HOST, posthogOptions } from '../lib/telemetry-client.ts'

// What posthog-js is initialised with in every browser: recordings that show a page's
// shape but nothing typed or read, and no email address in any event.
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
    expect(options.api_host).toBe('https://eu.i.posthog.com')
    // The EU cloud unless NEXT_PUBLIC_POSTHOG_HOST says otherwise at build time.
    expect(POSTHOG_HOST).toBe(process.env.NEXT_PUBLIC_POSTHOG_HOST ?? 'https://eu.i.posthog.com')
  })

  it('remove email addresses from every event, URLs included', () => {
    const beforeSend = options.before_send as (event: CaptureResult | null) => CaptureResult | null
    const event = {
      uuid: '1',
      event: '$pageview',
      properties: {
        $current_url: 'https://app.example.com/sign-in?email=ann%40example.com&next=/x',
        $pathname: '/invitations/accept',
        note: 'from ann@example.com',
      },
    } as unknown as CaptureResult
    const sent = beforeSend(event)
    expect(JSON.stringify(sent)).not.toMatch(/ann(@|%40)example\.com/)
    expect(sent?.properties.$current_url).toBe(
      'https://app.example.com/sign-in?email=[email]&next=/x',
    )
    expect(sent?.properties.note).toBe('from [email]')
    expect(beforeSend(null)).toBeNull()
  })
})
