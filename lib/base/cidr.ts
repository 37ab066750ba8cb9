/**
 * Address ranges (`10.0.0.0/8`, `::1/128`, `127.0.0.1`): parsed once, matched per request.
 * IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) match their IPv4 range.
 *
 * @module
 */

/** A parsed range: the address as bytes and how many leading bits must match. */
export interface Cidr {
  text: string;
  bytes: Uint8Array;
  bits: number;
}

function ipv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function ipv6(text: string): Uint8Array | null {
  let head = text;
  let tail4: Uint8Array | null = null;
  const last = text.lastIndexOf(":");
  if (text.slice(last + 1).includes(".")) {
    tail4 = ipv4(text.slice(last + 1));
    if (tail4 === null) return null;
    head = text.slice(0, last + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const group = (s: string) => s === "" ? [] : s.split(":");
  const left = group(halves[0]);
  const right = halves.length === 2 ? group(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [
    ...left,
    ...Array(halves.length === 2 ? missing : 0).fill("0"),
    ...right,
  ];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const n = parseInt(groups[i], 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** The bytes of an address (4 for IPv4, 16 for IPv6; a mapped IPv4 becomes 4); null if none. */
export function addressBytes(address: string): Uint8Array | null {
  const text = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = ipv4(text);
  if (v4) return v4;
  const v6 = ipv6(text);
  if (!v6) return null;
  const mapped = v6.slice(0, 10).every((b) => b === 0) && v6[10] === 0xff &&
    v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

/** Parses `address[/bits]`; null when it is not one. */
export function parseCidr(text: string): Cidr | null {
  const [address, bitsText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return null;
  const bytes = addressBytes(address);
  if (!bytes) return null;
  const max = bytes.length * 8;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) return null;
  if (bitsText !== undefined && !/^\d+$/.test(bitsText)) return null;
  return { text: text.trim(), bytes, bits };
}

/** True when `address` lies in `range`. */
export function cidrContains(range: Cidr, address: string): boolean {
  const bytes = addressBytes(address);
  if (!bytes || bytes.length !== range.bytes.length) return false;
  let left = range.bits;
  for (let i = 0; left > 0; i++, left -= 8) {
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}
