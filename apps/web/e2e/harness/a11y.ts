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
 * The axe rules that read colors. A page in its other color scheme differs from the one
 * already checked in its colors only, so these are the rules left to run on it: the whole
 * set again would double the check's time (1.5 s a run on a 2-core machine) for nothing.
 */
export const COLOR_RULES = ['color-contrast', 'link-in-text-block'] as const

/**
 * Runs axe-core on the page as it is now (its current color scheme and viewport) and
 * fails on any serious or critical violation, listing each rule, where it was found and
 * how to fix it. Minor and moderate findings do not fail: they are judged by a person.
 * `rules` narrows the run to those rules (COLOR_RULES for a second color scheme).
 */
export async function expectNoA11yViolations(
  page: Page,
  options: { rules?: readonly string[] } = {},
): Promise<void> {
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
  // Legacy mode runs axe.run in the page itself; the default merges each frame's results
  // in a blank page opened for it, about a second a check on a 2-core machine, for
  // cross-origin frames our pages do not have (same-origin frames are still checked).
  const axe = new AxeBuilder({ page }).options({ resultTypes: ['violations'] }).setLegacyMode(true)
  if (options.rules) axe.withRules([...options.rules])
  const { violations } = await axe.analyze()
  const failing = violations.filter((violation) => FAILING.has(violation.impact ?? ''))
  if (failing.length === 0) return
  throw new Error(
    `${failing.length} serious or critical accessibility violation(s) on ${page.url()}:\n${failing.map(describeViolation).join('\n')}`,
  )
}
