import AxeBuilder from '@axe-core/playwright'
import type { Page } from 'playwright-core'

type Violation = Awaited<ReturnType<AxeBuilder['analyze']>>['violations'][number]

/** Impacts that fail a test: what blocks or seriously hinders someone using the page. */
const FAILING = new Set(['serious', 'critical'])

const describeViolation = (violation: Violation) =>
  [
    `- ${violation.id} (${violation.impact}): ${violation.help}`,
    `  ${violation.helpUrl}`,
    ...violation.nodes.map((node) => `  at ${node.target.join(' ')}`),
  ].join('\n')

/**
 * Runs axe-core on the page as it is now (its current color scheme and viewport) and
 * fails on any serious or critical violation, listing each rule, where it was found and
 * how to fix it. Minor and moderate findings do not fail: they are judged by a person.
 */
export async function expectNoA11yViolations(page: Page): Promise<void> {
  // A color scheme just switched eases colors in (transition-colors): judging contrast
  // halfway would fail colors nobody sees for longer than a blink. Endless animations (a
  // skeleton's pulse) never finish and are left running.
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((animation) => animation.effect?.getComputedTiming().endTime !== Infinity)
        .map((animation) => animation.finished.catch(() => undefined)),
    ),
  )
  // Details of violations only: what passed is not read, and collecting it costs a third.
  const { violations } = await new AxeBuilder({ page })
    .options({ resultTypes: ['violations'] })
    .analyze()
  const failing = violations.filter((violation) => FAILING.has(violation.impact ?? ''))
  if (failing.length === 0) return
  throw new Error(
    `${failing.length} serious or critical accessibility violation(s) on ${page.url()}:\n${failing.map(describeViolation).join('\n')}`,
  )
}
