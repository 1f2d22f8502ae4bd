// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per module, so
// the benchmark page can show where a process spends its CPU without a profiler UI.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Self time by function, largest first. */
  functions: { name: string; ms: number; share: number }[];
  /** Self time by package (node_modules/<pkg>), tongban folder, or node internals. */
  modules: { name: string; ms: number; share: number }[];
}

/** Where a frame's code lives: an npm package, a folder of ours, node itself or V8. */
export function moduleOf(url: string, root: string): string {
  if (!url) return '(v8: gc, idle, program)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const rel = path.relative(root, file);
  return rel.startsWith('..') ? file : `tongban ${rel.split(path.sep)[0]}/`;
}

/**
 * Self time by function and by module over one or more profiles summed (a process's threads: its
 * main thread, or its worker threads, where the Temporal SDK runs the workflow code).
 */
export function summariseProfile(files: string | readonly string[], root: string, top = 15): ProfileSummary {
  const fn = new Map<string, number>();
  const mod = new Map<string, number>();
  let total = 0;
  for (const file of typeof files === 'string' ? [files] : files) {
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    for (const [id, us] of selfUs) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(idle)') continue;
      total += us;
      const where = moduleOf(frame.url, root);
      const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      fn.set(name, (fn.get(name) ?? 0) + us);
      mod.set(where, (mod.get(where) ?? 0) + us);
    }
  }
  const ranked = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, functions: ranked(fn), modules: ranked(mod) };
}
