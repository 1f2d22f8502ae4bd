// Text that crosses a boundary (API bodies, province callbacks, staff reasons) must not carry
// NUL or other control characters: PostgreSQL refuses U+0000 in text and jsonb, and a value that
// cannot be written would wedge the projection of a case for good. Tab, LF and CR stay allowed.
// Pure, so the API, the protocol contract and tests share one rule.

const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** The problem with a string, or null when it may cross the boundary. */
export function controlCharProblem(value: string): string | null {
  const m = CONTROL_CHARS.exec(value);
  if (!m) return null;
  const code = m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `contains a control character (U+${code}) at position ${m.index}`;
}

export function hasControlChars(value: string): boolean {
  return CONTROL_CHARS.test(value);
}
