// Storage of the development identity provider's state (sessions, interactions, grants, codes,
// tokens), through oidc-provider's documented adapter interface. In memory, and, with a file,
// written there (whole, mode 0600) shortly after each change and read back at start, so a restart
// of `npm start` keeps staff signed in at the provider. Expired entries are dropped when read and
// when written. One store per provider; development only (one process, a few dozen entries).
import fs from 'node:fs';
import path from 'node:path';

type Payload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; consumed?: number };

interface Entry {
  payload: Payload;
  /** Epoch milliseconds; null: no expiry. */
  expiresAt: number | null;
}

export interface StateStore {
  /** The adapter factory for the provider's `adapter` option. */
  adapterFor(model: string): Adapter;
  /** Writes pending changes now. */
  flush(): void;
}

export interface Adapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

const WRITE_DELAY_MS = 200;

export function createStateStore(file?: string): StateStore {
  const entries = new Map<string, Entry>();
  if (file) {
    try {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Entry>;
      for (const [key, entry] of Object.entries(saved)) entries.set(key, entry);
    } catch (e) {
      // No file yet, or a torn one from a crash: start empty (staff sign in again).
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') entries.clear();
    }
  }
  const live = (entry: Entry | undefined) => (entry && (entry.expiresAt === null || entry.expiresAt > Date.now()) ? entry : undefined);

  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!file) return;
    const out: Record<string, Entry> = {};
    for (const [key, entry] of entries) if (live(entry)) out[key] = entry;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(out), { mode: 0o600 });
    fs.renameSync(tmp, file);
  };
  const changed = () => {
    if (file && !timer) {
      timer = setTimeout(flush, WRITE_DELAY_MS);
      timer.unref();
    }
  };
  const findWhere = (model: string, field: 'uid' | 'userCode', value: string) => {
    for (const [key, entry] of entries) if (key.startsWith(`${model}:`) && live(entry)?.payload[field] === value) return entry.payload;
    return undefined;
  };

  return {
    flush,
    adapterFor(model: string): Adapter {
      const key = (id: string) => `${model}:${id}`;
      return {
        async upsert(id, payload, expiresIn) {
          entries.set(key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null });
          changed();
        },
        async find(id) {
          return live(entries.get(key(id)))?.payload;
        },
        async findByUid(uid) {
          return findWhere(model, 'uid', uid);
        },
        async findByUserCode(userCode) {
          return findWhere(model, 'userCode', userCode);
        },
        async consume(id) {
          const entry = live(entries.get(key(id)));
          if (entry) {
            entry.payload.consumed = Math.floor(Date.now() / 1000);
            changed();
          }
        },
        async destroy(id) {
          if (entries.delete(key(id))) changed();
        },
        async revokeByGrantId(grantId) {
          for (const [k, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(k);
          changed();
        },
      };
    },
  };
}
