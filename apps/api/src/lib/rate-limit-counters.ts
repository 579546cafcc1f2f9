import type { Redis, Result } from 'ioredis'

/** A fixed-window counter a request counts against: its Redis key and the most it allows. */
export interface WindowCounter {
  key: string
  limit: number
  /** Its point comes back when another counter refuses the request. */
  refundable: boolean
}

/** A counter once this request was counted: its count and the ms until its window ends. */
export interface CounterState {
  count: number
  msBeforeReset: number
}

/**
 * Counts one request against every counter of KEYS in one step (ADR 036). ARGV[1] is the
 * window in ms; for KEYS[i], ARGV[2i] is its limit and ARGV[2i + 1] '1' if it is
 * refundable. Each counter is incremented; one without an expiry (new this window) gets
 * the window's. If any counter is then over its limit the request is refused, and the
 * refundable counters still within theirs get their point back before the script ends,
 * so no other request ever sees those points taken. Returns {count, ms left} for each
 * key, in order.
 */
const COUNT = `
local window = tonumber(ARGV[1])
local result = {}
local refused = false
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ms = redis.call('PTTL', key)
  if ms < 0 then
    redis.call('PEXPIRE', key, window)
    ms = window
  end
  result[2 * i - 1] = count
  result[2 * i] = ms
  if count > tonumber(ARGV[2 * i]) then refused = true end
end
if refused then
  for i, key in ipairs(KEYS) do
    if ARGV[2 * i + 1] == '1' and result[2 * i - 1] <= tonumber(ARGV[2 * i]) then
      result[2 * i - 1] = redis.call('DECR', key)
    end
  end
end
return result
`

/**
 * Gives back the point a request took from each counter of KEYS, in one step. A counter
 * that has expired since is left alone: its window, and the point with it, are gone.
 */
const GIVE_BACK = `
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return #KEYS
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    groundworkRateLimitCount(
      numberOfKeys: number,
      ...keysThenArguments: Array<string | number>
    ): Result<number[], Context>
    groundworkRateLimitGiveBack(numberOfKeys: number, ...keys: string[]): Result<number, Context>
  }
}

/**
 * The rate limiter's counters in Redis, each request's tiers counted in one call. The
 * scripts are defined on the client: ioredis sends EVALSHA, and the script's source once
 * per connection and again whenever Redis answers NOSCRIPT (a restart, a failover, SCRIPT
 * FLUSH), so a Redis that has lost its script cache still counts.
 */
export class RateLimitCounters {
  readonly #redis: Redis
  readonly #windowMs: number

  constructor(redis: Redis, windowMs: number) {
    this.#redis = redis
    this.#windowMs = windowMs
    redis.defineCommand('groundworkRateLimitCount', { lua: COUNT })
    redis.defineCommand('groundworkRateLimitGiveBack', { lua: GIVE_BACK })
  }

  /** Counts one request against every counter, refusing it if any is over (see COUNT). */
  async count(counters: readonly WindowCounter[]): Promise<CounterState[]> {
    const reply = await this.#redis.groundworkRateLimitCount(
      counters.length,
      ...counters.map((counter) => counter.key),
      this.#windowMs,
      ...counters.flatMap((counter) => [counter.limit, counter.refundable ? 1 : 0]),
    )
    return counters.map((_, i) => ({
      count: Number(reply[2 * i]),
      msBeforeReset: Number(reply[2 * i + 1]),
    }))
  }

  /** Gives back the point one request took from each of these counters. */
  async giveBack(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.#redis.groundworkRateLimitGiveBack(keys.length, ...keys)
  }
}
