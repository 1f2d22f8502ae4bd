// Content-addressed materials store on the filesystem: a file lives at <dir>/sha256/ab/cd/<hash>,
// written once through a temporary file and renamed into place, so a reader never sees half a
// file and the same bytes uploaded twice are stored once. Workflows carry only ids and hashes.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

export class MaterialTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the file exceeds the limit of ${maxBytes} bytes`);
    this.name = 'MaterialTooLargeError';
  }
}

export class MaterialNotFoundError extends Error {
  constructor(readonly sha256: string) {
    super(`no material with sha256 ${sha256} in the store`);
    this.name = 'MaterialNotFoundError';
  }
}

export interface StoredMaterial {
  sha256: string;
  size: number;
  /** The first bytes, for content sniffing. */
  head: Buffer;
}

export interface MaterialsStore {
  /** Streams the source into the store; throws MaterialTooLargeError past maxBytes (nothing is kept). */
  put(source: Readable | AsyncIterable<Buffer>, opts: { maxBytes: number }): Promise<StoredMaterial>;
  read(sha256: string): Promise<Buffer>;
  exists(sha256: string): Promise<boolean>;
  /**
   * Deletes a blob unless it was (re)written at or after `olderThan` (an upload after that time
   * still needs it); true when it was deleted. The caller makes sure no file row refers to it.
   */
  removeIfOlderThan(sha256: string, olderThan: Date): Promise<boolean>;
}

const HEAD_BYTES = 16;

export function createFilesystemStore(dir: string): MaterialsStore {
  const pathOf = (sha256: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('not a sha256 hex digest');
    return path.join(dir, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  };
  const tmpDir = path.join(dir, 'tmp');

  return {
    async put(source, { maxBytes }) {
      await fsp.mkdir(tmpDir, { recursive: true });
      const tmp = path.join(tmpDir, randomUUID());
      const hash = createHash('sha256');
      const out = fs.createWriteStream(tmp, { flags: 'wx' });
      let size = 0;
      const headChunks: Buffer[] = [];
      let headLen = 0;
      try {
        for await (const chunk of source as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) throw new MaterialTooLargeError(maxBytes);
          if (headLen < HEAD_BYTES) {
            headChunks.push(chunk.subarray(0, HEAD_BYTES - headLen));
            headLen += Math.min(chunk.length, HEAD_BYTES - headLen);
          }
          hash.update(chunk);
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        const sha256 = hash.digest('hex');
        const final = pathOf(sha256);
        await fsp.mkdir(path.dirname(final), { recursive: true });
        await fsp.rename(tmp, final);
        return { sha256, size, head: Buffer.concat(headChunks) };
      } catch (e) {
        out.destroy();
        await fsp.rm(tmp, { force: true });
        throw e;
      }
    },
    async read(sha256) {
      try {
        return await fsp.readFile(pathOf(sha256));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new MaterialNotFoundError(sha256);
        throw e;
      }
    },
    async exists(sha256) {
      try {
        await fsp.access(pathOf(sha256));
        return true;
      } catch {
        return false;
      }
    },
    async removeIfOlderThan(sha256, olderThan) {
      const file = pathOf(sha256);
      try {
        // A fresh upload renames its file into place, which gives it a new mtime.
        if ((await fsp.stat(file)).mtime >= olderThan) return false;
        await fsp.rm(file);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
    },
  };
}
