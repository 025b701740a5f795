/**
 * Salesforce-style record ids. A record id is 15 case-sensitive characters (3-character key
 * prefix of the object, then instance and sequence characters) plus a 3-character suffix that
 * encodes which of the 15 are upper case, so the 18-character form survives case-insensitive
 * tools. Salesforce accepts either form as input and always answers with 18 characters.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-character case suffix of a 15-character id. */
export function idSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charAt(chunk * 5 + i);
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET.charAt(bits);
  }
  return suffix;
}

/**
 * A new 18-character id for key prefix `prefix` and sequence number `seq` (unique per server
 * data dir). The `0R` pair stands where Salesforce puts the instance (pod) characters.
 */
export function makeId(prefix: string, seq: number): string {
  let n = Math.floor(seq);
  let body = '';
  while (n > 0) {
    body = BASE62.charAt(n % 62) + body;
    n = Math.floor(n / 62);
  }
  const id15 = `${prefix}0R${body.padStart(10, '0')}`;
  return id15 + idSuffix(id15);
}

/**
 * The canonical 18-character form of `id` when it is a well-formed 15- or 18-character id,
 * else undefined. An 18-character id whose suffix does not match its case is malformed.
 */
export function normalizeId(id: string): string | undefined {
  if (!/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$/.test(id)) return undefined;
  const id15 = id.slice(0, 15);
  const full = id15 + idSuffix(id15);
  if (id.length === 18 && id.slice(15).toUpperCase() !== full.slice(15)) return undefined;
  return full;
}
