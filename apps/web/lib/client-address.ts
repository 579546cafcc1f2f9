/**
 * The end user's address, from the X-Forwarded-For chain and the connection's peer.
 * Each trusted proxy appends the address it saw, so counting `hops` entries from the right
 * of (chain + peer) skips exactly the proxies we run; anything further left was written by
 * the client and is ignored. With no trusted proxy the peer is the answer.
 */
export function clientAddress(
  forwardedFor: string | string[] | undefined,
  peer: string | undefined,
  hops: number,
): string | undefined {
  const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (peer) chain.push(peer)
  const index = chain.length - 1 - hops
  // Fewer entries than proxies: the request did not come through them; the peer is all we know.
  const address = index >= 0 ? chain[index] : peer
  return address ? address.replace(/^::ffff:/, '') : undefined
}
