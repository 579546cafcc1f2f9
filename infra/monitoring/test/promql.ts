/**
 * Just enough PromQL reading to check names against the metrics contract: the metric
 * names an expression selects, and the label matchers of each selector. Strings, label
 * lists of grouping clauses, ranges, numbers, keywords and function names are not names.
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
])

export interface Selector {
  name: string
  matchers: Array<{ label: string; op: string; value: string }>
}

/** Grafana's variables ($__rate_interval, ${datasource}) as PromQL Prometheus can parse. */
export const withoutGrafanaVariables = (expr: string) =>
  expr.replace(/\$__\w+|\$\{\w+\}|\$\w+/g, '5m')

export function selectors(expr: string): Selector[] {
  const text = withoutGrafanaVariables(expr)
  const found: Selector[] = []
  // name{matchers}: the matchers first, so their strings and labels are read, then dropped.
  const withMatchers = text.replace(
    /([a-zA-Z_:][\w:]*)?\s*\{((?:[^}"]|"(?:[^"\\]|\\.)*")*)\}/g,
    (_whole, name: string | undefined, body: string) => {
      const matchers = [...body.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(
        ([, label, op, value]) => ({ label: label ?? '', op: op ?? '', value: value ?? '' }),
      )
      const metric = name ?? matchers.find((m) => m.label === '__name__')?.value ?? ''
      found.push({ name: metric, matchers })
      return ' '
    },
  )
  const bare = withMatchers
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ')
  for (const match of bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = match
    if (!name || call || KEYWORDS.has(name.toLowerCase())) continue
    // Numbers in exponent form (1e3) start with a digit and never match; durations neither.
    found.push({ name, matchers: [] })
  }
  return found
}
