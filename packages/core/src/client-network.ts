import ipaddr from 'ipaddr.js'

/**
 * What limits count a client as: its IPv4 address, or its IPv6 network (a /64 by
 * default). One host is usually handed a whole /64, so counting single IPv6 addresses
 * would give it billions of fresh identities against every per-IP limit and throttle.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as the IPv4 address it is. Anything that does
 * not parse is returned as is (it is still one key).
 */
export function clientNetwork(address: string, ipv6Prefix = 64): string {
  if (!ipaddr.isValid(address)) return address
  const parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const v6 = parsed as ipaddr.IPv6
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString()
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${v6.toString()}/${ipv6Prefix}`)
  return `${network.toString()}/${ipv6Prefix}`
}
