import { BlockList, isIP } from "node:net";
import { z } from "zod";

/**
 * The client's address. `X-Forwarded-For` is anyone's to write, so it counts only when the
 * connection comes from a proxy named in TRUSTED_PROXIES; then the chain is walked from the
 * right (the hop nearest us) past every trusted proxy. Otherwise the socket address counts.
 */
export type ProxyList = BlockList;

/** "127.0.0.1, 10.0.0.0/8, ::1" → a matcher; throws naming the first entry that is neither. */
export function parseProxyList(entries: string[]): ProxyList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    const type = family === 6 ? "ipv6" : "ipv4";
    const bits = prefix === undefined ? null : Number(prefix);
    if (!family || (bits !== null && !(Number.isInteger(bits) && bits >= 0 && bits <= (family === 6 ? 128 : 32)))) {
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    }
    if (bits === null) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
export function plain(address: string) {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : null;
  return v4 && isIP(v4) === 4 ? v4 : address;
}

export function isTrusted(proxies: ProxyList, address: string) {
  address = plain(address);
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 6 ? "ipv6" : "ipv4");
}

export function clientIp(socketAddress: string, forwardedFor: string | undefined, proxies: ProxyList): string {
  let ip = plain(socketAddress);
  if (!isTrusted(proxies, ip)) return ip;
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((hop) => plain(hop.trim()))
    .filter(Boolean);
  for (let hop = hops.pop(); hop !== undefined; hop = hops.pop()) {
    if (!isIP(hop)) return ip; // garbage in the chain: the last address we could vouch for
    ip = hop;
    if (!isTrusted(proxies, ip)) return ip;
  }
  return ip;
}

/** The TRUSTED_PROXIES setting: a comma-separated list → a matcher. */
export const proxyList = z.string().transform((value, ctx) => {
  try {
    return parseProxyList(
      value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean),
    );
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
    return z.NEVER;
  }
});
