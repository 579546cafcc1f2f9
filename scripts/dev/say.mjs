// How pnpm dev speaks: a cyan [dev] before what it does, a red ✖ before what stops it.
// Plain JavaScript, for start.mjs, which runs before Node is asked to load TypeScript.

/** @param {string} message */
export const log = (message) => console.log(`\x1b[36m[dev]\x1b[0m ${message}`)

/** @param {string} message */
export const fail = (message) => console.error(`\x1b[31m✖\x1b[0m ${message}`)
