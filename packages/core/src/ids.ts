import { randomFillSync } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'

/** Random bytes for ids, drawn from the system's CSPRNG 256 ids at a time. */
const pool = new Uint8Array(16 * 256)
let offset = pool.length

/**
 * A new row id, a UUIDv7 (time-ordered, as Prisma's `@default(uuid(7))` makes them), for
 * rows made in the API before they are written (ADR 045). Its random bits come from a
 * pooled buffer, as Node's `randomUUID` pools its own: `uuid` asks the CSPRNG for 16 bytes
 * per id, which `pnpm bench:api`'s profile of the keyed create measured at about 19 µs an
 * id on the build machines, where one fill of 4 KiB costs about as much as one id's.
 * Ids of one millisecond are not in the order they were made (`uuid` keeps a counter for
 * that only when it draws the bytes itself); nothing here orders by id alone.
 */
export function newId(): string {
  if (offset === pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const random = pool.subarray(offset, offset + 16)
  offset += 16
  return uuidv7({ random })
}
