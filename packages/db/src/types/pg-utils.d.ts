/**
 * node-postgres's value mapping (`pg/lib/utils.js`, exported by its package.json), which
 * @types/pg does not describe: how any query's values become what Bind sends. Used by the
 * one-round-trip write (transaction-settings.ts) to send values exactly as a query would.
 */
declare module 'pg/lib/utils.js' {
  const utils: {
    prepareValue(value: unknown): string | Buffer | null
  }
  export default utils
}
