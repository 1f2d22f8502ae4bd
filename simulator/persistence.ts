// The simulator's state file: with `stateFile` set (npm start passes one under DATA_DIR), the
// provinces' cases (with their correction notices, supplements and procedures), events, pending steps, undelivered callbacks, idempotency store, scenarios
// and id counters survive a restart, as a real province's database would. Written atomically
// (a temporary file renamed over the old one) and debounced, so a burst of changes is one write.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { CreateCaseRequest } from '../contracts/province.js';
import type {
  CorrectionNotice,
  DueStep,
  ProcedureRecord,
  Province,
  ProvinceCallbackEvent,
  ProvinceCounters,
  ProvinceSimulation,
  QueuedCallback,
  ReceivedMaterial,
  SimCase,
  StoredResponse,
  SupplementRevision,
} from './province.js';
import type { LiaisonReceived } from './liaison.js';
import type { Scenario, ScenarioRule } from './scenarios.js';

const VERSION = 1;

interface CaseSnapshot {
  provinceCaseId: string;
  request: CreateCaseRequest;
  status: SimCase['status'];
  materials: ReceivedMaterial[];
  /** Absent in files written before corrections and procedures existed: none then. */
  supplements?: SupplementRevision[];
  notices?: CorrectionNotice[];
  procedures?: ProcedureRecord[];
  events: ProvinceCallbackEvent[];
  due: DueStep | null;
  outbox: QueuedCallback[];
  trackingNumber: string | null;
  /** Absent in files written before work liaison existed. */
  liaison?: LiaisonReceived[];
}

interface ProvinceSnapshot {
  scenario: Scenario;
  counters: ProvinceCounters;
  cases: CaseSnapshot[];
  idempotency: [string, StoredResponse][];
}

export interface SimulatorSnapshot {
  version: typeof VERSION;
  savedAt: string;
  rules: ScenarioRule[];
  provinces: Record<string, ProvinceSnapshot>;
}

export function snapshotOf(simulation: ProvinceSimulation): SimulatorSnapshot {
  const provinces: Record<string, ProvinceSnapshot> = {};
  for (const [code, province] of simulation.provinces) {
    provinces[code] = {
      scenario: province.state.scenario,
      counters: { ...province.counters },
      cases: [...province.state.cases.values()].map((c) => ({
        provinceCaseId: c.provinceCaseId,
        request: c.request,
        status: c.status,
        materials: [...c.materials.values()],
        supplements: c.supplements,
        notices: c.notices,
        procedures: c.procedures,
        events: c.events,
        due: c.due,
        outbox: c.outbox,
        trackingNumber: c.trackingNumber,
        liaison: c.liaison,
      })),
      idempotency: [...province.state.idempotency],
    };
  }
  return { version: VERSION, savedAt: new Date().toISOString(), rules: [...simulation.scenarioRules], provinces };
}

/** Puts a snapshot's state into the provinces (those still configured) and returns its rules. */
export function restoreInto(provinces: ReadonlyMap<string, Province>, snapshot: SimulatorSnapshot): ScenarioRule[] {
  for (const [code, saved] of Object.entries(snapshot.provinces)) {
    const province = provinces.get(code);
    if (!province) continue;
    province.reset();
    province.state.scenario = saved.scenario;
    province.counters = { ...saved.counters };
    for (const c of saved.cases) {
      province.state.cases.set(c.provinceCaseId, {
        provinceCaseId: c.provinceCaseId,
        request: c.request,
        status: c.status,
        materials: new Map(c.materials.map((m) => [m.materialCode, m])),
        supplements: c.supplements ?? [],
        notices: c.notices ?? [],
        procedures: c.procedures ?? [],
        events: c.events,
        due: c.due,
        outbox: c.outbox,
        trackingNumber: c.trackingNumber,
        liaison: c.liaison ?? [],
      });
    }
    for (const [key, stored] of saved.idempotency) province.state.idempotency.set(key, stored);
  }
  return snapshot.rules;
}

export class StateFile {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private take: (() => SimulatorSnapshot) | null = null;
  private closed = false;

  constructor(
    readonly file: string,
    private readonly debounceMs = 100,
  ) {}

  /** The saved snapshot, or null when there is no file yet. A file of another format is an error. */
  load(): SimulatorSnapshot | null {
    let raw: string;
    try {
      raw = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const parsed = JSON.parse(raw) as Partial<SimulatorSnapshot>;
    if (parsed.version !== VERSION || typeof parsed.provinces !== 'object' || !Array.isArray(parsed.rules)) {
      throw new Error(`simulator state file ${this.file} is not a version ${VERSION} snapshot; move it away to start afresh`);
    }
    return parsed as SimulatorSnapshot;
  }

  /** Writes `take()` soon; repeated calls within the debounce interval make one write. */
  schedule(take: () => SimulatorSnapshot): void {
    if (this.closed) return;
    this.take = take;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.writeNow();
    }, this.debounceMs);
  }

  /** Writes the last change and stops writing: what happens after shutdown is not saved. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Writes any pending change now and waits for every write to finish. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      await this.writeNow();
    }
    await this.writing;
  }

  private writeNow(): Promise<void> {
    const take = this.take;
    if (!take) return this.writing;
    this.take = null;
    const json = JSON.stringify(take());
    // One write at a time, in order: the last snapshot taken is the last one renamed into place.
    this.writing = this.writing
      .then(async () => {
        await fsp.mkdir(path.dirname(this.file), { recursive: true });
        const temporary = `${this.file}.${process.pid}.tmp`;
        await fsp.writeFile(temporary, json, { mode: 0o600 });
        await fsp.rename(temporary, this.file);
      })
      .catch((error: unknown) => {
        // Best effort: the next change tries again; the simulator keeps serving from memory.
        console.error(`simulator: could not write ${this.file}:`, error);
      });
    return this.writing;
  }
}
