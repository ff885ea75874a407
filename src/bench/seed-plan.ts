/**
 * What `radledger bench seed` writes (src/bench/seed.ts): a year of a hospital's log with one
 * patient whose record many people looked at — the data the web application's benchmark opens
 * (issue 20, "Speed": 1,000,000 entries, a patient with 10,000 accesses).
 *
 * The log after the setup is a sequence of units, one per clinical case: the ten entries of a case
 * (src/bench/workloads.ts clinicalCase: study, care, report, AI, sections, sign-off, the
 * radiologist's recorded read — of some other patient), then the seeded patient's accesses that
 * fall in that unit, spread evenly over the units. Unit u's entries carry the time
 * `start + u·span/units`, so the history covers the year and the checkpoints' "size over time" has
 * a shape. Like every workload, unit u depends only on (u, the plan): worker threads sign disjoint
 * ranges of units and the file they produce is appended in order.
 *
 * The patient's accesses are a realistic mix, each admitted by the append rules as they stand
 * (src/domain/access/entries.ts): radiologists' reads of a study, a series or a report on the basis
 * of their care relationship (purpose TREAT), refusals (research or operations purposes; a clinician
 * without a relationship), the patient's own reads of their record, and one break-glass in a
 * hundred (its justification's commitment only: the seed writes no vault content, so the review
 * queue shows the justification as unavailable).
 */
import type { CryptoSuite } from "../core/crypto.js";
import type { JsonObject } from "../core/canonical-json.js";
import { toBase64, toHex, utf8 } from "../core/bytes.js";
import { actorKeyId, type EntryRefs } from "../core/entry.js";
import { signAs, type HeldKey } from "../app/keys.js";
import { BENCH_RADIOLOGISTS, makeWorkloadRange, type WorkloadSetup } from "./workloads.js";

export const SEED_PATIENT_ACTOR = "bench-patient";
export const SEED_AUDITOR = "bench-auditor";
/** Studies of the seeded patient (each with a report): what the accesses name. */
export const SEED_PATIENT_STUDIES = 12;
const CASE_SIZE = 10;
const DAY = 86_400_000;

/** Everything a worker needs to sign any unit: plain data, passed to worker threads. */
export interface SeedPlan {
  readonly setup: WorkloadSetup;
  /** Units (clinical cases) in the bulk. */
  readonly units: number;
  /** The seeded patient's accesses, spread over the units. */
  readonly accesses: number;
  /** Time of unit 0 and the span the units cover (ms). */
  readonly start: number;
  readonly span: number;
  readonly patient: string;
  /** Leaf hashes of the patient's care relationships, one per bench radiologist. */
  readonly care: readonly string[];
  /** The patient's studies: study id, its first series key, its report id. */
  readonly studies: readonly { readonly study: string; readonly series: string; readonly report: string }[];
}

function b64url(crypto: CryptoSuite, prefix: string, label: string): string {
  return (
    prefix +
    toBase64(crypto.sha256(utf8(label)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .slice(0, 43)
  );
}

const hex = (crypto: CryptoSuite, label: string): string => toHex(crypto.sha256(utf8(label)));

/** The seeded patient's pseudonym (deterministic: the same in every seeded directory). */
export function seedPatient(crypto: CryptoSuite): string {
  return b64url(crypto, "pt_", "radledger bench seed patient");
}

/** The study bodies of the seeded patient. */
export function patientStudyBody(crypto: CryptoSuite, patient: string, k: number): JsonObject {
  return {
    studyKey: b64url(crypto, "st_", `seed patient study ${k}`),
    patient,
    modalities: [k % 3 === 0 ? "MR" : "CT"],
    bodyPart: k % 2 === 0 ? "CHEST" : "HEAD",
    series: [
      {
        seriesKey: b64url(crypto, "se_", `seed patient study ${k} series a`),
        modality: k % 3 === 0 ? "MR" : "CT",
        instanceCount: 120,
        manifestRoot: hex(crypto, `seed patient study ${k} series a`),
      },
    ],
    instanceCount: 120,
    manifestRoot: hex(crypto, `seed patient study ${k}`),
    source: { kind: "pacs", name: "orthanc-main" },
  };
}

export function seriesKeyOf(crypto: CryptoSuite, k: number): string {
  return b64url(crypto, "se_", `seed patient study ${k} series a`);
}

/** The first access index of unit u (accesses are spread evenly: unit u holds [first(u), first(u+1))). */
export function firstAccessOf(plan: Pick<SeedPlan, "units" | "accesses">, u: number): number {
  return plan.units === 0 ? 0 : Math.floor((u * plan.accesses) / plan.units);
}

export function unitTime(plan: Pick<SeedPlan, "start" | "span" | "units">, u: number): number {
  return plan.start + Math.floor((u * plan.span) / Math.max(1, plan.units));
}

function institutionKey(crypto: CryptoSuite, setup: WorkloadSetup): HeldKey {
  const seed = Uint8Array.from(atob(setup.institutionSeed!), (ch) => ch.charCodeAt(0));
  const publicKey = crypto.ed25519PublicKey(seed);
  return { actor: "institution", seed, publicKey, keyId: actorKeyId(crypto, publicKey) };
}

/** Access k of the seeded patient, at `time`: the body and references of its access.recorded entry. */
export function patientAccess(
  crypto: CryptoSuite,
  plan: SeedPlan,
  k: number,
): { body: JsonObject; refs?: EntryRefs } {
  const r = k % BENCH_RADIOLOGISTS;
  const rad = `bench-rad-${r}`;
  const s = plan.studies[k % plan.studies.length]!;
  const parts: JsonObject[] = [
    { kind: "study", id: s.study },
    { kind: "series", id: s.series, study: s.study },
    { kind: "report", id: s.report, study: s.study },
  ];
  const base = { patient: plan.patient, action: k % 7 === 0 ? "download" : "read" };
  const kind = k % 10;
  if (kind <= 5)
    return {
      body: {
        ...base,
        actor: rad,
        part: parts[k % 3]!,
        purpose: "TREAT",
        decision: "permit",
        basis: { kind: "care" },
      },
      refs: { care: plan.care[r]! },
    };
  if (kind <= 7)
    return {
      body: {
        ...base,
        actor: rad,
        part: parts[0]!,
        purpose: kind === 6 ? "HRESCH" : "HOPERAT",
        decision: "deny",
        reason: "purpose-not-granted",
      },
    };
  if (kind === 8)
    return {
      body: {
        ...base,
        actor: SEED_PATIENT_ACTOR,
        part: { kind: "record" },
        purpose: "PATRQT",
        decision: "permit",
        basis: { kind: "patient" },
      },
    };
  if (k % 100 === 99)
    return {
      body: {
        ...base,
        actor: rad,
        part: parts[0]!,
        purpose: "ETREAT",
        decision: "permit",
        basis: {
          kind: "break-glass",
          reason: "urgent-clinical-need",
          reasonCommitment: hex(crypto, `seed break-glass ${k}`),
        },
      },
    };
  return {
    body: {
      ...base,
      actor: "bench-clin-0",
      part: parts[2]!,
      purpose: "TREAT",
      decision: "deny",
      reason: "no-grant",
    },
  };
}

/** The signed entries of units [u0, u1), in log order. */
export function seedUnits(crypto: CryptoSuite, plan: SeedPlan, u0: number, u1: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const institution = institutionKey(crypto, plan.setup);
  for (let u = u0; u < u1; u++) {
    const time = unitTime(plan, u);
    out.push(...makeWorkloadRange(crypto, "clinical", { ...plan.setup, time }, u * CASE_SIZE, CASE_SIZE));
    const last = firstAccessOf(plan, u + 1);
    for (let k = firstAccessOf(plan, u); k < last; k++) {
      const a = patientAccess(crypto, plan, k);
      // 30 s after the unit's case, and apart from one another (an access record is unique by time).
      out.push(
        signAs(crypto, institution, plan.setup.origin, "access.recorded", a.body, {
          time: time + 30_000 + (k - firstAccessOf(plan, u)),
          ...(a.refs ? { refs: a.refs } : {}),
        }),
      );
    }
  }
  return out;
}

/** How many units a log of `entries` holds after `setupEntries` and with `accesses` accesses. */
export function unitsFor(entries: number, setupEntries: number, accesses: number): number {
  return Math.max(0, Math.floor((entries - setupEntries - accesses) / CASE_SIZE));
}

export const SEED_DAY = DAY;
