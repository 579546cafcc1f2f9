/**
 * A stack trace's frame ("    at fn (file:line:col)"). Tests of what a user or operator
 * reads assert that no output matches it: errors are explained, never dumped.
 */
export const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m
