/**
 * `radledger bench seed`: builds a data directory for the web application's benchmark (issue 20,
 * "Speed": a log of 1,000,000 entries with a patient whose record was accessed 10,000 times), fast,
 * through the real append path: every entry signed, verified, admitted by the families' rules and
 * durably committed with a signed checkpoint per batch. What it writes: src/bench/seed-plan.ts.
 *
 * Steps: init the directory; append the setup (the bench actors and AI model of workloads.ts, the
 * seeded patient's actor, studies, reports and care relationships, an auditor); sign the bulk on
 * worker threads into a scratch file; append it in order; set a password for one person per
 * persona (patient, radiologist, auditor, admin), each set "by the actor" so that no change is
 * forced at the first sign-in — random per run, written to DIR/bench-users.json (mode 0600) and
 * never to the log, whose password.set entries record only who set them. A benchmark directory,
 * never a hospital's: its keys are the bench's deterministic test keys.
 *
 * Entry times run over the past year, so the node opens the directory with a wide entry-age window
 * (the append path's 15-minute window exists for live submissions).
 */
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { initDataDir } from "../app/init.js";
import { readActorKey, readLogKeySeed, signAs, type HeldKey } from "../app/keys.js";
import { setPassword } from "../app/credentials.js";
import { openNode, nodeFactory, type RadledgerNode } from "../wiring/node.js";
import { openAuthStore } from "../wiring/auth.js";
import { startModuleWorker } from "../adapters/threads/worker-start.js";
import { RadledgerError } from "../core/errors.js";
import { formatTime } from "../core/entry.js";
import { toBase64 } from "../core/bytes.js";
import type { JsonObject } from "../core/canonical-json.js";
import type { EntryRefs } from "../core/entry.js";
import { readEntries } from "./append.js";
import { makeScratch } from "./scratch.js";
import {
  benchKey,
  BENCH_RADIOLOGISTS,
  makeWorkloadRange,
  setupEntries,
  type WorkloadSetup,
} from "./workloads.js";
import {
  patientStudyBody,
  SEED_AUDITOR,
  SEED_DAY,
  SEED_PATIENT_ACTOR,
  SEED_PATIENT_STUDIES,
  seedPatient,
  seriesKeyOf,
  unitsFor,
  unitTime,
  type SeedPlan,
} from "./seed-plan.js";

export const SEED_ORIGIN = "radledger.bench.example/log";
export const SEED_USERS_FILE = "bench-users.json";

export interface SeedOptions {
  readonly dataDir: string;
  readonly entries: number;
  readonly patientAccesses: number;
  readonly threads?: number;
  readonly progress?: (phase: string, done: number, total: number) => void;
}

export interface SeedUser {
  readonly persona: "patient" | "radiologist" | "auditor" | "admin";
  readonly actor: string;
  readonly password: string;
}

export interface SeedResult {
  readonly dataDir: string;
  readonly size: number;
  readonly patient: string;
  readonly patientActor: string;
  readonly patientAccesses: number;
  readonly usersFile: string;
  readonly threads: number;
  readonly setupSeconds: number;
  readonly signSeconds: number;
  readonly appendSeconds: number;
  readonly totalSeconds: number;
  readonly appendPerSecond: number;
}

/** One sign-in per persona the web benchmark opens pages as. */
const PERSONAS = [
  ["patient", SEED_PATIENT_ACTOR],
  ["radiologist", "bench-rad-0"],
  ["auditor", SEED_AUDITOR],
  ["admin", "admin"],
] as const;

const seconds = (from: bigint): number => Math.round(Number(process.hrtime.bigint() - from) / 1e7) / 100;

async function appendOk(node: RadledgerNode, entries: Uint8Array[], what: string): Promise<string[]> {
  const results = await node.appender.appendAll(entries);
  return results.map((r) => {
    if (!r.ok) throw new RadledgerError(r.error.code, `bench seed: ${what} refused: ${r.error.message}`);
    return r.leafHash;
  });
}

/** Signs units [0, units) on `threads` workers into `file`, in order; returns the entries written. */
async function signUnits(
  file: string,
  plan: SeedPlan,
  threads: number,
  progress: SeedOptions["progress"],
): Promise<number> {
  const fd = openSync(file, "w");
  const per = Math.ceil(plan.units / threads);
  const pending = new Map<number, { end: number; count: number; data: Uint8Array }>();
  let next = 0;
  let written = 0;
  let done = 0;
  const flush = (): void => {
    for (let c = pending.get(next); c; c = pending.get(next)) {
      writeSync(fd, c.data);
      pending.delete(next);
      written += c.count;
      next = c.end;
    }
  };
  try {
    await Promise.all(
      Array.from({ length: threads }, (_, w) => {
        const u0 = w * per;
        const u1 = Math.min(plan.units, u0 + per);
        if (u1 <= u0) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          const worker = startModuleWorker("seed-worker", import.meta.url, { plan, u0, u1 });
          type Msg = { start: number; end: number; count: number; data: Uint8Array } | { done: true };
          worker.on("message", (m: Msg) => {
            if ("done" in m) {
              void worker.terminate();
              resolve();
              return;
            }
            pending.set(m.start, m);
            done += m.end - m.start;
            flush();
            progress?.("sign", done, plan.units);
          });
          worker.once("error", reject);
        });
      }),
    );
    flush();
  } finally {
    closeSync(fd);
  }
  if (next !== plan.units)
    throw new RadledgerError("INTERNAL", `bench seed: signed ${next} of ${plan.units} units`);
  return written;
}

export async function seedDataDir(o: SeedOptions): Promise<SeedResult> {
  if (!Number.isSafeInteger(o.entries) || o.entries < 1)
    throw new RadledgerError("CLI_USAGE", "--entries must be a positive integer");
  if (!Number.isSafeInteger(o.patientAccesses) || o.patientAccesses < 0)
    throw new RadledgerError("CLI_USAGE", "--patient-accesses must be a non-negative integer");
  const threads = o.threads ?? availableParallelism();
  const started = process.hrtime.bigint();
  await initDataDir(o.dataDir, { origin: SEED_ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
  const now = Date.now();
  const start = now - 365 * SEED_DAY;
  const node = openNode(o.dataDir, { verifyThreads: threads, maxEntryAgeMs: 400 * SEED_DAY });
  const scratch = makeScratch("bench");
  try {
    const crypto = node.crypto;
    const origin = node.config.origin;
    const admin = readActorKey(crypto, o.dataDir, "admin");
    if (!admin)
      throw new RadledgerError("STORE_NOT_FOUND", "bench seed: the data directory has no admin key");
    const patient = seedPatient(crypto);
    const t0 = start - 2 * SEED_DAY;
    const sign = (key: HeldKey, type: string, body: JsonObject, time: number, refs?: EntryRefs): Uint8Array =>
      signAs(crypto, key, origin, type, body, { time, ...(refs ? { refs } : {}) });

    // --- setup: actors and model, then the patient's studies, reports and care relationships.
    const enrol = (actor: string, kind: string, roles: string[], extra: JsonObject = {}): Uint8Array =>
      sign(
        admin,
        "actor.enrolled",
        { actorId: actor, kind, roles, publicKey: toBase64(benchKey(crypto, actor).publicKey), ...extra },
        t0,
      );
    await appendOk(
      node,
      [
        ...setupEntries(crypto, admin, origin, t0),
        enrol(SEED_PATIENT_ACTOR, "patient", ["patient"], { patient }),
        enrol(SEED_AUDITOR, "staff", ["auditor"], { displayName: "Bench Auditor" }),
      ],
      "setup",
    );
    const tech = benchKey(crypto, "bench-tech-0");
    const studyIds = await appendOk(
      node,
      Array.from({ length: SEED_PATIENT_STUDIES }, (_, k) =>
        sign(tech, "study.registered", patientStudyBody(crypto, patient, k), t0 + 3600_000 + k),
      ),
      "the patient's studies",
    );
    const rad0 = benchKey(crypto, "bench-rad-0");
    const reportIds = await appendOk(
      node,
      studyIds.map((study, k) =>
        sign(rad0, "report.opened", { reportKind: "diagnostic" }, t0 + 7200_000 + k, { study }),
      ),
      "the patient's reports",
    );
    const clinician = benchKey(crypto, "bench-clin-0");
    const careIds = await appendOk(
      node,
      Array.from({ length: BENCH_RADIOLOGISTS }, (_, r) =>
        sign(
          clinician,
          "care.assigned",
          {
            patient,
            actor: `bench-rad-${r}`,
            relationship: "attending",
            period: { start: formatTime(start - SEED_DAY) },
          },
          t0 + 10_800_000 + r,
        ),
      ),
      "the patient's care relationships",
    );
    const model = node.store.lookup("ai.model.key", "Bench AI\nChestNet\n1.0.0", { limit: 1 })[0]?.value;
    if (!model) throw new RadledgerError("INTERNAL", "bench seed: the model was not registered");
    const setup: WorkloadSetup = {
      origin,
      time: start,
      model,
      institutionSeed: toBase64(readLogKeySeed(node.dir)),
    };
    const units = unitsFor(o.entries - PERSONAS.length, node.ledger.size, o.patientAccesses);
    if (units === 0 && o.patientAccesses > 0)
      throw new RadledgerError(
        "CLI_USAGE",
        `--entries ${o.entries} leaves no room for clinical cases around ${o.patientAccesses} accesses`,
      );
    const plan: SeedPlan = {
      setup,
      units,
      accesses: units === 0 ? 0 : o.patientAccesses,
      start,
      span: 365 * SEED_DAY - 3600_000,
      patient,
      care: careIds,
      studies: studyIds.map((study, k) => ({ study, series: seriesKeyOf(crypto, k), report: reportIds[k]! })),
    };
    const setupSeconds = seconds(started);

    // --- the bulk, signed on worker threads, then appended in order.
    const signStarted = process.hrtime.bigint();
    const file = join(scratch.path, "seed.bin");
    const bulk = await signUnits(file, plan, threads, o.progress);
    const signSeconds = seconds(signStarted);
    const appendStarted = process.hrtime.bigint();
    let appended = 0;
    const inFlight = new Set<Promise<void>>();
    let failure: RadledgerError | undefined;
    for (const chunk of readEntries(file, 1024)) {
      const p = node.appender.appendAll(chunk).then((results) => {
        for (const r of results)
          if (!r.ok && !failure)
            failure = new RadledgerError(
              r.error.code,
              `bench seed: an entry was refused: ${r.error.message}`,
            );
        appended += results.length;
        o.progress?.("append", appended, bulk);
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      // Keeps the ledger's pending window full without holding the file in memory (as append.ts).
      if (inFlight.size >= 12) await Promise.race(inFlight);
      if (failure) break;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    // Entries past the last whole case: study registrations, up to the size asked for (the
    // personas' password.set entries below included).
    const rest = o.entries - node.ledger.size - PERSONAS.length;
    if (rest > 0) {
      const last = unitTime(plan, Math.max(0, units - 1)) + 60_000;
      const filler: Uint8Array[] = [];
      for (let j = 0; j < rest; j++)
        filler.push(...makeWorkloadRange(crypto, "studies", { ...setup, time: last }, 10_000_000 + j, 1));
      await appendOk(node, filler, "the last study registrations");
    }
    const appendSeconds = seconds(appendStarted);

    // --- one sign-in per persona.
    const auth = openAuthStore(o.dataDir);
    const users: SeedUser[] = [];
    try {
      for (const [persona, actor] of PERSONAS) {
        const password = randomBytes(18).toString("base64url");
        await setPassword(node, auth, actor, password, actor);
        users.push({ persona, actor, password });
      }
    } finally {
      auth.close();
    }
    const usersFile = join(o.dataDir, SEED_USERS_FILE);
    writeFileSync(usersFile, `${JSON.stringify({ patient, users }, null, 2)}\n`, { mode: 0o600 });
    const accessesOnLog = node.store.lookup("access.patient", patient).length;
    return {
      dataDir: o.dataDir,
      size: node.ledger.size,
      patient,
      patientActor: SEED_PATIENT_ACTOR,
      patientAccesses: accessesOnLog,
      usersFile,
      threads,
      setupSeconds,
      signSeconds,
      appendSeconds,
      totalSeconds: seconds(started),
      appendPerSecond: Math.round((bulk + Math.max(0, rest)) / Math.max(appendSeconds, 0.001)),
    };
  } finally {
    await node.close();
    scratch.remove();
  }
}
