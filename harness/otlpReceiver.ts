// A collector's OTLP/HTTP traces endpoint, JSON encoding (what @opentelemetry/exporter-trace-otlp-http
// sends, clients/tracing.ts), on loopback: what the tracing test checks and what
// `npm run bench:intake` times intake's steps from. It keeps every post and answers 200.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as OTLP/JSON carries it, with its service and attributes flattened. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  /** Start and end, milliseconds since the epoch (from the span's nanoseconds). */
  startMs: number;
  endMs: number;
  /** Everything the span carries as text (attributes, events, status), for the personal-data check. */
  raw: string;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const valueOf = (v: OtlpAnyValue): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const flatten = (kvs: OtlpKeyValue[] = []) => Object.fromEntries(kvs.map((kv) => [kv.key, valueOf(kv.value)]));
/** Nanoseconds since the epoch (a decimal string in OTLP/JSON) as milliseconds, to the microsecond. */
const msOf = (nanos: string | number) => Number(BigInt(nanos) / 1000n) / 1000;

export interface OtlpReceiver {
  url: string;
  posts: { path: string; contentType: string; body: string }[];
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const posts: OtlpReceiver['posts'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    spans() {
      return posts.flatMap((post) => {
        const body = JSON.parse(post.body) as OtlpExport;
        return (body.resourceSpans ?? []).flatMap((rs) => {
          const service = String(flatten(rs.resource?.attributes)['service.name']);
          return (rs.scopeSpans ?? []).flatMap((ss) =>
            (ss.spans ?? []).map((s) => ({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId ?? '',
              name: s.name,
              kind: s.kind,
              attributes: flatten(s.attributes),
              startMs: msOf(s.startTimeUnixNano),
              endMs: msOf(s.endTimeUnixNano),
              raw: JSON.stringify(s),
            })),
          );
        });
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
