// One canonical JSON text for a value: object keys sorted at every level, `undefined` members
// left out, everything else as JSON.stringify writes it. Two writers of the same value get the
// same text, so its hash does not depend on the order a client (or a database's jsonb) happened
// to write the keys in. Used for the intake request hash (api/intake.ts) and the hand-off ledger's
// entry hashes (domain/handoffs.ts). Pure.

/** Keys sorted at every level, so the hash does not depend on the order a client wrote them in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
