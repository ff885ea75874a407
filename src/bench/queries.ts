/**
 * Query benchmarks (docs/performance.md): the consent decision with 1,000,000 grants in the projection, and the
 * AI recall query over 1,000,000 reports. Stores are filled with ProjectionLoader (the families' own
 * apply functions) or, for the recall index, with the reports family's own row format.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { toBase64, toHex } from "../core/bytes.js";
import { formatTime } from "../core/entry.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import { StateLayer } from "../domain/ledger/state.js";
import { createRegistry } from "../domain/registry.js";
import { benchDecide } from "./consent-decide.js";
import { aiRecall } from "../domain/ai/queries.js";
import { aiUsageRow } from "../domain/reports/entries.js";
import { ProjectionLoader } from "./projection-loader.js";

const ORIGIN = "radledger.bench.example/log";
const institution: ActorDoc = {
  id: "institution",
  kind: "institution",
  roles: ["institution", "admin"],
  status: "active",
};

const pseudonymOf = (prefix: string, i: number): string =>
  prefix +
  toBase64(crypto.sha256(new TextEncoder().encode(`${prefix}${i}`)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .slice(0, 43);

export interface ConsentBenchResult {
  readonly grants: number;
  readonly patients: number;
  readonly fillSeconds: number;
  readonly consentDecisionP50Micros: number;
  readonly consentDecisionP99Micros: number;
  readonly samples: number;
  readonly permits: number;
}

export function benchConsentDecision(
  options: {
    grants?: number;
    grantsPerPatient?: number;
    samples?: number;
    progress?: (done: number, total: number) => void;
  } = {},
): ConsentBenchResult {
  const grants = options.grants ?? 1_000_000;
  const perPatient = options.grantsPerPatient ?? 4;
  const patients = Math.ceil(grants / perPatient);
  const dir = mkdtempSync(join(tmpdir(), "radledger-bench-consent-"));
  const store = new SqliteLogStore(join(dir, "ledger.sqlite"), { cacheMiB: 64 });
  try {
    const loader = new ProjectionLoader(store, crypto, createRegistry(), ORIGIN);
    const staff = Array.from({ length: 64 }, (_, i) => `rad-${i}`);
    for (const actorId of staff) {
      loader.apply({
        type: "actor.enrolled",
        actor: institution,
        body: {
          actorId,
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(crypto.ed25519PublicKey(crypto.sha256(new TextEncoder().encode(actorId)))),
        },
      });
    }
    const start = formatTime(Date.now() - 86_400_000);
    const started = performance.now();
    for (let g = 0; g < grants; g++) {
      const patient = pseudonymOf("pt_", g % patients);
      loader.apply({
        type: "consent.granted",
        actor: institution,
        body: {
          patient,
          grantee: { kind: "actor", id: staff[(g * 7) % staff.length]! },
          scope: { kind: "all-imaging" },
          purposes: g % 3 === 0 ? ["TREAT", "HRESCH"] : ["TREAT"],
          period: { start },
          onBehalf: {
            documentCommitment: toHex(crypto.sha256(new TextEncoder().encode(`form ${g}`))),
            reason: "paper-form",
          },
        },
      });
      if (g % 20_000 === 0) options.progress?.(g, grants);
    }
    loader.flush();
    const fillSeconds = (performance.now() - started) / 1000;
    const now = formatTime(Date.now());
    const latency = benchDecide(
      store,
      (i) => ({
        actor: staff[(i * 13) % staff.length]!,
        patient: pseudonymOf("pt_", (i * 7919) % patients),
        part: { kind: "study", id: toHex(crypto.sha256(new TextEncoder().encode(`study ${i}`))) },
        purpose: "TREAT",
        time: now,
      }),
      { samples: options.samples ?? 20_000 },
    );
    return {
      grants,
      patients,
      fillSeconds: Math.round(fillSeconds),
      consentDecisionP50Micros: Math.round(latency.p50Us * 10) / 10,
      consentDecisionP99Micros: Math.round(latency.p99Us * 10) / 10,
      samples: latency.samples,
      permits: latency.permits,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RecallBenchResult {
  readonly reports: number;
  readonly modelVersions: number;
  readonly aiRecallMillis: number;
  readonly recalledReports: number;
  readonly recalledPatients: number;
}

export function benchAiRecall(
  options: {
    reports?: number;
    modelVersions?: number;
    progress?: (done: number, total: number) => void;
  } = {},
): RecallBenchResult {
  const reports = options.reports ?? 1_000_000;
  const versions = options.modelVersions ?? 20;
  const dir = mkdtempSync(join(tmpdir(), "radledger-bench-recall-"));
  const store = new SqliteLogStore(join(dir, "ledger.sqlite"), { cacheMiB: 64 });
  try {
    const loader = new ProjectionLoader(store, crypto, createRegistry(), ORIGIN);
    const models = Array.from({ length: versions }, (_, v) =>
      loader.apply({
        type: "ai.model.registered",
        actor: institution,
        body: {
          vendor: "Bench AI",
          name: "ChestNet",
          version: `1.${v}.0`,
          artifactHash: toHex(crypto.sha256(new TextEncoder().encode(`model ${v}`))),
          intendedUse: "chest CT nodule detection",
        },
      }),
    );
    loader.flush();
    // One AI contribution per report, each by one of the model versions: the rows the reports
    // family writes into ai.usage (aiUsageRow), 1,000,000 of them.
    let layer = new StateLayer(store);
    for (let r = 0; r < reports; r++) {
      const id = toHex(crypto.sha256(new TextEncoder().encode(`report ${r}`)));
      const study = toHex(crypto.sha256(new TextEncoder().encode(`study ${r}`)));
      layer.addIndex(
        "ai.usage",
        models[r % versions]!.leafHash,
        2_000_000_000 + r,
        aiUsageRow({ id, study, patient: pseudonymOf("pt_", r % 400_000) }),
      );
      if ((r + 1) % 20_000 === 0) {
        store.commit({ entries: [], tiles: [], mutations: layer.mutations() });
        layer = new StateLayer(store);
        options.progress?.(r + 1, reports);
      }
    }
    store.commit({ entries: [], tiles: [], mutations: layer.mutations() });
    const target = models[7 % versions]!;
    aiRecall(store, { id: target.leafHash }); // warm the page cache once, as a live node would be
    const times: number[] = [];
    let result = aiRecall(store, { id: target.leafHash });
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      result = aiRecall(store, { id: target.leafHash });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      reports,
      modelVersions: versions,
      aiRecallMillis: Math.round(times[2]! * 10) / 10,
      recalledReports: result.reports.length,
      recalledPatients: result.patients.length,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
