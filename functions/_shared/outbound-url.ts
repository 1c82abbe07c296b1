/**
 * The outbound-URL guard: the one check every user-configured URL passes
 * before a function sends anything to it (today's webhook and Slack alert
 * channels; the HTTP steps and event webhooks that come next must use it
 * too).
 *
 * {@link checkOutboundUrl} refuses, with an {@link OutboundUrlError}:
 *
 * - any scheme but `http:` and `https:`, and URLs carrying credentials
 *   (`http://user:pass@host/`);
 * - hosts that are, or whose DNS answers (A and AAAA, through
 *   `Deno.resolveDns`) include, an address that is not public: loopback
 *   (127/8, ::1), "this network" and unspecified (0/8, ::), private
 *   (10/8, 172.16/12, 192.168/16), CGNAT (100.64/10), link-local
 *   (169.254/16, fe80::/10) and with it the cloud metadata address
 *   169.254.169.254, unique-local (fc00::/7, with AWS's fd00:ec2::254),
 *   IETF protocol assignments and documentation ranges, benchmarking
 *   (198.18/15), multicast (224/4, ff00::/8), reserved and broadcast
 *   (240/4), and IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms
 *   of any of those. Every resolved address must pass: one private answer
 *   among public ones refuses the URL. The names `localhost`,
 *   `*.localhost` and `metadata.google.internal` are refused before DNS.
 *   IPv4 written in decimal, octal or hex (`http://2130706433/`,
 *   `http://0x7f.1/`) is normalised by the WHATWG URL parser first, so it
 *   is checked as the address it is.
 *
 * unless the allow-list `WABOT_OUTBOUND_ALLOW` names them: a comma-separated
 * list of host names (exact, case-insensitive: the host is then trusted
 * whatever it resolves to), IP addresses and CIDR ranges (an address inside
 * one passes). The local stack writes `127.0.0.0/8,::1/128` there
 * (`scripts/lib/stack.sh`), so its tests can post to receivers on loopback;
 * hosted projects leave it unset.
 *
 * {@link guardedFetch} checks the URL, then fetches with
 * `redirect: "manual"`: a redirect is never followed, so it cannot lead
 * past the guard (a 3xx is the answer the caller sees).
 *
 * **DNS rebinding, and what remains.** Deno's `fetch` resolves the host
 * itself and offers no way to connect to an address chosen beforehand
 * while keeping the name for TLS (SNI and certificate checks). So:
 *
 * - for `http:` URLs the request is sent to the checked address itself,
 *   with the original `Host` header, so a second, different DNS answer
 *   cannot be used;
 * - for `https:` URLs the name is resolved again by `fetch`. A hostile DNS
 *   server answering a public address to the check and a private one a
 *   moment later could still reach an internal service, but only one that
 *   speaks TLS with a certificate valid for the attacker's name, which
 *   internal services (and the metadata endpoints, plain HTTP only) do not
 *   have. That is the residual risk (ADR docs/adr/0007-outbound-url-guard.md).
 *
 * When `Deno.resolveDns` is unavailable the guard fails closed: names are
 * refused unless allow-listed; literal public addresses still pass.
 *
 * @module
 */

/** Why a URL was refused by the guard. The message names the reason, never a response body. */
export class OutboundUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundUrlError";
  }
}

/** The environment variable of the allow-list. */
export const ALLOW_VARIABLE = "WABOT_OUTBOUND_ALLOW";

/** An IP address as its bytes: 4 for IPv4, 16 for IPv6. */
type Address = Uint8Array;

/** Parses a dotted-quad IPv4 address (strictly four decimal parts), or null. */
function parseIpv4(text: string): Address | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let index = 0; index < 4; index++) {
    const part = parts[index];
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[index] = value;
  }
  return bytes;
}

/** Parses an IPv6 address (with `::` and an optional dotted IPv4 tail), or null. */
function parseIpv6(input: string): Address | null {
  let text = input;
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  if (!text.includes(":")) return null;
  const groups: number[] = [];
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parseHalf = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    for (let index = 0; index < pieces.length; index++) {
      const piece = pieces[index];
      if (index === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = parseHalf(halves[0]);
  const tail = halves.length === 2 ? parseHalf(halves[1]) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return null;
    groups.push(...head, ...new Array(missing).fill(0), ...tail);
  } else {
    groups.push(...head);
  }
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** Parses an IPv4 or IPv6 address literal, or null. */
export function parseIp(text: string): Address | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** Formats an address for messages. */
function formatIp(address: Address): string {
  if (address.length === 4) return address.join(".");
  const groups: string[] = [];
  for (let index = 0; index < 16; index += 2) {
    groups.push(((address[index] << 8) | address[index + 1]).toString(16));
  }
  return groups.join(":");
}

/** Whether `address` lies in `network/prefix` (same family). */
function inRange(address: Address, network: Address, prefix: number): boolean {
  if (address.length !== network.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((address[byte] & mask) !== (network[byte] & mask)) return false;
  }
  return true;
}

/** A CIDR range. */
interface Range {
  network: Address;
  prefix: number;
  label: string;
}

function range(cidr: string, label: string): Range {
  const [text, prefix] = cidr.split("/");
  const network = parseIp(text);
  if (network === null) throw new Error(`bad built-in range ${cidr}`);
  return { network, prefix: Number(prefix), label };
}

/** The IPv4 ranges that are never a public destination. */
const BLOCKED_V4: Range[] = [
  range("0.0.0.0/8", "this network / unspecified"),
  range("10.0.0.0/8", "private (RFC 1918)"),
  range("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.169.254/32", "cloud metadata"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private (RFC 1918)"),
  range("192.0.0.0/24", "IETF protocol assignments"),
  range("192.0.2.0/24", "documentation"),
  range("192.88.99.0/24", "6to4 relay anycast"),
  range("192.168.0.0/16", "private (RFC 1918)"),
  range("198.18.0.0/15", "benchmarking"),
  range("198.51.100.0/24", "documentation"),
  range("203.0.113.0/24", "documentation"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved / broadcast"),
];

/** The IPv6 ranges that are never a public destination (embedded IPv4 forms are unwrapped first). */
const BLOCKED_V6: Range[] = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("fd00:ec2::254/128", "cloud metadata"),
  range("fc00::/7", "unique-local"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "site-local (deprecated)"),
  range("ff00::/8", "multicast"),
  range("100::/64", "discard-only"),
  range("2001:db8::/32", "documentation"),
  range("2001::/23", "IETF protocol assignments"),
];

/** The IPv4 address embedded in an IPv6 one (mapped, compatible, NAT64, 6to4), or null. */
function embeddedIpv4(address: Address): Address | null {
  if (address.length !== 16) return null;
  const zeros = (from: number, to: number) => address.slice(from, to).every((byte) => byte === 0);
  // ::ffff:a.b.c.d (mapped) and ::ffff:0:a.b.c.d (translated).
  if (zeros(0, 10) && address[10] === 0xff && address[11] === 0xff) return address.slice(12);
  if (zeros(0, 8) && address[8] === 0xff && address[9] === 0xff && zeros(10, 12)) return address.slice(12);
  // ::a.b.c.d (compatible, deprecated), except :: and ::1 themselves.
  if (zeros(0, 12) && !(zeros(12, 15) && address[15] <= 1)) return address.slice(12);
  // 64:ff9b::a.b.c.d (NAT64, RFC 6052) and 64:ff9b:1::/48 (local-use NAT64).
  if (address[0] === 0x00 && address[1] === 0x64 && address[2] === 0xff && address[3] === 0x9b) {
    return address.slice(12);
  }
  // 2002:aabb:ccdd::/48 (6to4).
  if (address[0] === 0x20 && address[1] === 0x02) return address.slice(2, 6);
  return null;
}

/** Why `address` is not a public destination, or null when it is. */
export function blockedReason(address: Address): string | null {
  if (address.length === 4) {
    return BLOCKED_V4.find((r) => inRange(address, r.network, r.prefix))?.label ?? null;
  }
  const inner = embeddedIpv4(address);
  if (inner !== null) {
    const reason = blockedReason(inner);
    return reason === null ? null : `${reason}, as IPv6 ${formatIp(address)}`;
  }
  return BLOCKED_V6.find((r) => inRange(address, r.network, r.prefix))?.label ?? null;
}

/** The parsed allow-list. */
export interface AllowList {
  hosts: Set<string>;
  ranges: Range[];
}

/**
 * Parses an allow-list: comma- or space-separated host names, addresses and
 * CIDR ranges. Throws {@link OutboundUrlError} naming a malformed entry.
 */
export function parseAllowList(text: string | undefined): AllowList {
  const list: AllowList = { hosts: new Set(), ranges: [] };
  for (const raw of (text ?? "").split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    const [ipText, prefixText, extra] = entry.split("/");
    const address = parseIp(ipText);
    if (address !== null && extra === undefined) {
      const max = address.length * 8;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText === "") {
        throw new OutboundUrlError(`${ALLOW_VARIABLE}: bad CIDR prefix in "${raw}"`);
      }
      list.ranges.push({ network: address, prefix, label: entry });
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/.test(entry)) {
      list.hosts.add(entry.replace(/\.$/, ""));
    } else {
      throw new OutboundUrlError(`${ALLOW_VARIABLE}: "${raw}" is not a host name, address or CIDR range`);
    }
  }
  return list;
}

/** Whether the allow-list admits `address`. */
function allowedAddress(list: AllowList, address: Address): boolean {
  return list.ranges.some((r) => inRange(address, r.network, r.prefix));
}

/** Resolves a host name to its addresses (A and AAAA). */
export type Resolver = (host: string) => Promise<string[]>;

/** Resolves with `Deno.resolveDns`, A and AAAA; an empty answer of one type is not an error. */
export const denoResolver: Resolver = async (host) => {
  if (typeof Deno.resolveDns !== "function") {
    throw new OutboundUrlError("DNS resolution is unavailable here, so host names cannot be checked");
  }
  const lookup = async (type: "A" | "AAAA") => {
    try {
      return await Deno.resolveDns(host, type);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
  };
  const [a, aaaa] = await Promise.all([lookup("A"), lookup("AAAA")]);
  return [...a, ...aaaa];
};

/** Options of the guard; tests pass their own. */
export interface GuardOptions {
  /** The allow-list; defaults to `WABOT_OUTBOUND_ALLOW`, read on each call. */
  allow?: AllowList;
  /** The resolver; defaults to {@link denoResolver}. */
  resolve?: Resolver;
}

/** A URL the guard let through, with the addresses it was checked at. */
export interface CheckedUrl {
  url: URL;
  /** The checked addresses, empty when the host name itself is allow-listed. */
  addresses: string[];
}

/** Names refused before any DNS look-up. */
function isReservedName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host === "metadata.google.internal" ||
    host === "metadata";
}

/**
 * Checks the syntax of a URL without DNS: http(s), no credentials, a host,
 * and when the host is an address literal or a reserved name, that it may
 * be reached. The admin API calls it when a channel is created or changed;
 * delivery calls {@link checkOutboundUrl}, which also resolves names.
 */
export function checkOutboundUrlSyntax(raw: string, options: GuardOptions = {}): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundUrlError("the URL is not valid");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OutboundUrlError(`the URL must be http or https, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new OutboundUrlError("the URL must not carry credentials (user:password@)");
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "") throw new OutboundUrlError("the URL has no host");
  const allow = options.allow ?? parseAllowList(Deno.env.get(ALLOW_VARIABLE));
  if (allow.hosts.has(host)) return url;
  const literal = parseIp(host);
  if (literal !== null) {
    const reason = blockedReason(literal);
    if (reason !== null && !allowedAddress(allow, literal)) {
      throw new OutboundUrlError(`the URL's address ${formatIp(literal)} is ${reason}, which is not allowed`);
    }
    return url;
  }
  if (isReservedName(host)) {
    throw new OutboundUrlError(`the URL's host ${host} is a local or metadata name, which is not allowed`);
  }
  return url;
}

/**
 * Checks a URL fully: {@link checkOutboundUrlSyntax}, then every address
 * its host resolves to. Throws {@link OutboundUrlError} naming the reason.
 */
export async function checkOutboundUrl(raw: string, options: GuardOptions = {}): Promise<CheckedUrl> {
  const allow = options.allow ?? parseAllowList(Deno.env.get(ALLOW_VARIABLE));
  const url = checkOutboundUrlSyntax(raw, { ...options, allow });
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (allow.hosts.has(host)) return { url, addresses: [] };
  const literal = parseIp(host);
  if (literal !== null) return { url, addresses: [formatIp(literal)] };
  let answers: string[];
  try {
    answers = await (options.resolve ?? denoResolver)(host);
  } catch (error) {
    if (error instanceof OutboundUrlError) throw error;
    throw new OutboundUrlError(`the URL's host ${host} could not be resolved`);
  }
  if (answers.length === 0) throw new OutboundUrlError(`the URL's host ${host} has no address`);
  for (const answer of answers) {
    const address = parseIp(answer);
    if (address === null) {
      throw new OutboundUrlError(`the URL's host ${host} resolved to a malformed address`);
    }
    const reason = blockedReason(address);
    if (reason !== null && !allowedAddress(allow, address)) {
      throw new OutboundUrlError(
        `the URL's host ${host} resolves to ${formatIp(address)}, ${reason}, which is not allowed`,
      );
    }
  }
  return { url, addresses: answers };
}

let pinningClient: Deno.HttpClient | null | undefined;

/**
 * The HTTP client that lets a request carry its own `Host` header
 * (`allowHost`), so an `http:` request can go to the checked address under
 * its original name; null where the runtime has no `Deno.createHttpClient`.
 */
function hostPinningClient(): Deno.HttpClient | null {
  if (pinningClient === undefined) {
    try {
      pinningClient = typeof Deno.createHttpClient === "function"
        ? Deno.createHttpClient({ allowHost: true })
        : null;
    } catch {
      pinningClient = null;
    }
  }
  return pinningClient;
}

/**
 * Fetches a user-configured URL after {@link checkOutboundUrl}, never
 * following redirects. For `http:` the connection goes to the first
 * checked address, with the original `Host` header, where the runtime
 * allows it (see the module documentation for `https:`). Throws
 * {@link OutboundUrlError} when refused.
 */
export async function guardedFetch(
  raw: string,
  init: RequestInit = {},
  options: GuardOptions = {},
): Promise<Response> {
  const { url, addresses } = await checkOutboundUrl(raw, options);
  const client = hostPinningClient();
  if (url.protocol === "http:" && addresses.length > 0 && parseIp(url.hostname) === null && client !== null) {
    const address = parseIp(addresses[0]);
    if (address !== null) {
      const target = new URL(url);
      target.hostname = address.length === 16 ? `[${formatIp(address)}]` : formatIp(address);
      const headers = new Headers(init.headers);
      headers.set("host", url.host);
      return await fetch(target, { ...init, headers, redirect: "manual", client });
    }
  }
  return await fetch(url, { ...init, redirect: "manual" });
}
