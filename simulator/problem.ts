// RFC 9457 problem details, the only error format of the province protocol.
import { z } from 'zod';

export const PROBLEM_TYPE_BASE = 'https://tongban.example/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    /** Extension members (RFC 9457 §3.2), e.g. the decision of an `already-decided` 409. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
    this.name = 'ProblemError';
  }

  toJSON(): ProblemDetails & Record<string, unknown> {
    return { ...this.extensions, type: `${PROBLEM_TYPE_BASE}${this.slug}`, title: this.title, status: this.status, detail: this.detail };
  }
}

/** Parses a raw JSON body (the simulator receives every body as bytes) against a schema; 400 otherwise. */
export function parseJsonBody<T>(raw: Buffer | undefined, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse((raw ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new ProblemError(400, 'malformed-body', 'Malformed body', 'the body is not valid JSON');
  }
  const result = schema.safeParse(value);
  if (!result.success) throw new ProblemError(400, 'malformed-body', 'Malformed body', z.prettifyError(result.error));
  return result.data;
}
