// A round-robin HTTP load balancer in front of several api instances, as a province data bureau
// puts one (nginx, an ingress) in front of its replicas: each request goes to the next instance;
// an instance whose connection is refused is skipped (marked down for a moment) and the request
// goes to the next one. A request already sent to an instance that then dies is retried
// elsewhere only when that is safe: a read, or a write carrying an Idempotency-Key (intake
// converges on one case per key); any other gets 502 and its client decides, as behind a real
// balancer. The api is stateless (docs/deployment.md), so any instance serves any request.
// Used by the production-shape test; no vitest import.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobin {
  url: string;
  /** Requests answered per instance url, and the ones retried on another instance. */
  stats(): { served: Record<string, number>; retried: number; failed: number };
  close(): Promise<void>;
}

const DOWN_FOR_MS = 1_000;
const UPSTREAM_TIMEOUT_MS = 60_000;

export async function startRoundRobin(upstreams: () => readonly string[]): Promise<RoundRobin> {
  let next = 0;
  const downUntil = new Map<string, number>();
  const served: Record<string, number> = {};
  let retried = 0;
  let failed = 0;

  /** Instances in round-robin order starting at the next one, those marked down last. */
  function order(): string[] {
    const all = [...upstreams()];
    if (all.length === 0) return [];
    const start = next++ % all.length;
    const rotated = [...all.slice(start), ...all.slice(0, start)];
    const now = Date.now();
    return [...rotated.filter((u) => (downUntil.get(u) ?? 0) <= now), ...rotated.filter((u) => (downUntil.get(u) ?? 0) > now)];
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const retryable = ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '') || req.headers['idempotency-key'] !== undefined;
      void forward(order(), body, retryable);
    });

    async function forward(candidates: string[], body: Buffer, retryable: boolean): Promise<void> {
      const target = candidates.shift();
      if (!target) {
        failed++;
        res.writeHead(502, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: 'no api instance answered' }));
        return;
      }
      const url = new URL(req.url ?? '/', target);
      // A fresh connection per request (no keep-alive pool): a killed instance is a refused connect, never a stale socket.
      // The body is buffered (to send it again elsewhere), so it goes with its length.
      const upstream = http.request(url, { method: req.method, headers: { ...endToEnd(req.headers), host: url.host, 'content-length': String(body.length) }, agent: false, timeout: UPSTREAM_TIMEOUT_MS });
      let answered = false;
      upstream.on('response', (up) => {
        answered = true;
        served[target] = (served[target] ?? 0) + 1;
        res.writeHead(up.statusCode ?? 502, endToEnd(up.headers));
        up.pipe(res);
      });
      upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (answered) {
          res.destroy(err);
          return;
        }
        const refused = err.code === 'ECONNREFUSED';
        if (refused || err.code === 'ECONNRESET' || err.code === 'EPIPE') downUntil.set(target, Date.now() + DOWN_FOR_MS);
        if (refused || retryable) {
          retried++;
          void forward(candidates, body, retryable);
          return;
        }
        failed++;
        res.writeHead(502, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Gateway', status: 502, detail: `the api instance failed mid-request (${err.code ?? err.message})` }));
      });
      upstream.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ served: { ...served }, retried, failed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Hop-by-hop headers belong to one connection (RFC 9110 §7.6.1): the balancer's own, not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}
