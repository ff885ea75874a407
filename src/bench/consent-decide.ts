/**
 * Benchmark helpers for the consent decision (docs/performance.md: p99 < 1 ms with 1,000,000 grants). The
 * projection indexes grants by patient, so one decision reads the actor, the part's study, the
 * patient's few grants and the pair's care relationships — its cost depends on that patient's
 * grants, not on the log. `npm run bench` fills a store (e.g. with syntheticGrantBody, signed by the
 * institution on the patients' behalf) and calls benchDecide on it. No timing assertions in tests.
 */
import type { JsonObject } from "../core/canonical-json.js";
import type { StateReader } from "../ports/storage.js";
import { decide, type AccessQuery } from "../domain/consent/decide.js";
import { PURPOSES_OF_USE, SCOPE_KINDS } from "../domain/consent/entries.js";

export interface DecideLatency {
  readonly samples: number;
  readonly permits: number;
  /** Latencies in microseconds. */
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
  readonly meanUs: number;
}

/** Nearest-rank percentile of ascending-sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * Times `samples` decisions (after `warmup` untimed ones) over `state`; `query(i)` gives the i-th
 * access to decide (vary the patient so that the store's cache is not all that is measured).
 */
export function benchDecide(
  state: StateReader,
  query: (i: number) => AccessQuery,
  options: { samples?: number; warmup?: number; now?: () => number } = {},
): DecideLatency {
  const samples = options.samples ?? 10_000;
  const warmup = options.warmup ?? Math.min(1_000, samples);
  const now = options.now ?? (() => performance.now());
  for (let i = 0; i < warmup; i++) decide(state, query(samples + i));
  const micros = new Array<number>(samples);
  let permits = 0;
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const q = query(i);
    const start = now();
    const d = decide(state, q);
    const us = (now() - start) * 1000;
    micros[i] = us;
    total += us;
    if (d.decision === "permit") permits++;
  }
  micros.sort((a, b) => a - b);
  return {
    samples,
    permits,
    p50Us: percentile(micros, 50),
    p90Us: percentile(micros, 90),
    p99Us: percentile(micros, 99),
    p999Us: percentile(micros, 99.9),
    maxUs: micros[samples - 1] ?? 0,
    meanUs: samples === 0 ? 0 : total / samples,
  };
}

/**
 * A varied consent.granted body for grant number `i` of a synthetic population, to be signed by the
 * institution (it carries `onBehalf`): scopes without a study reference, one to three purposes,
 * open-ended or bounded periods around 2026.
 */
export function syntheticGrantBody(
  patient: string,
  granteeActor: string,
  i: number,
  documentCommitment: string,
): JsonObject {
  const scopes = SCOPE_KINDS.filter((s) => s === "all-imaging" || s === "reports-only");
  const purposes = [
    ...new Set([0, 1, 2].slice(0, 1 + (i % 3)).map((k) => PURPOSES_OF_USE[(i + k * 5) % 7]!)),
  ];
  const start = `2026-0${1 + (i % 6)}-01T00:00:00.000Z`;
  return {
    patient,
    grantee: { kind: "actor", id: granteeActor },
    scope: { kind: scopes[i % scopes.length]! },
    purposes,
    period: i % 2 === 0 ? { start } : { start, end: "2027-01-01T00:00:00.000Z" },
    onBehalf: { documentCommitment, reason: "paper-form" },
  };
}
