/**
 * Benchmark workloads: deterministic generators of realistic signed entries. Entry i of a workload
 * depends only on (i, the workload's setup), so worker threads can pre-sign disjoint ranges and the
 * file they produce is appended in order. Actor keys are derived from fixed seeds (test keys, never
 * used outside benchmarks).
 */
import type { CryptoSuite } from "../core/crypto.js";
import type { JsonObject } from "../core/canonical-json.js";
import { toBase64, toHex, utf8 } from "../core/bytes.js";
import { actorKeyId, type EntryRefs } from "../core/entry.js";
import { leafHash } from "../core/merkle/hash.js";
import { signAs, type HeldKey } from "../app/keys.js";

export type WorkloadName = "studies" | "clinical";

export interface WorkloadSetup {
  readonly origin: string;
  /** Entry time for every generated entry (ms since epoch). */
  readonly time: number;
  /** Leaf hash of the registered AI model (clinical workload). */
  readonly model?: string;
  /** The log key's seed (base64): the gatekeeper's access records are signed with it. */
  readonly institutionSeed?: string;
}

/** Deterministic benchmark key for an actor. */
export function benchKey(crypto: CryptoSuite, actor: string): HeldKey {
  const seed = crypto.sha256(utf8(`radledger-bench-key/${actor}`));
  const publicKey = crypto.ed25519PublicKey(seed);
  return { actor, seed, publicKey, keyId: actorKeyId(crypto, publicKey) };
}

export const BENCH_RADIOLOGISTS = 16;
export const BENCH_TECHNOLOGISTS = 4;

/** Entries that enrol the benchmark's actors and register its model (signed by the admin). */
export function setupEntries(
  crypto: CryptoSuite,
  admin: HeldKey,
  origin: string,
  time: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const enrol = (actor: string, roles: string[], kind = "staff"): void => {
    const key = benchKey(crypto, actor);
    out.push(
      signAs(
        crypto,
        admin,
        origin,
        "actor.enrolled",
        { actorId: actor, kind, roles, publicKey: toBase64(key.publicKey) },
        { time },
      ),
    );
  };
  for (let i = 0; i < BENCH_RADIOLOGISTS; i++) enrol(`bench-rad-${i}`, ["radiologist"]);
  for (let i = 0; i < BENCH_TECHNOLOGISTS; i++) enrol(`bench-tech-${i}`, ["technologist"]);
  enrol("bench-ai", ["ai-system"], "system");
  enrol("bench-clin-0", ["clinician"]);
  out.push(
    signAs(
      crypto,
      admin,
      origin,
      "ai.model.registered",
      {
        vendor: "Bench AI",
        name: "ChestNet",
        version: "1.0.0",
        artifactHash: hex(crypto, "model"),
        intendedUse: "chest CT nodule detection",
      },
      { time },
    ),
  );
  return out;
}

function hex(crypto: CryptoSuite, label: string): string {
  return toHex(crypto.sha256(utf8(label)));
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

function study(crypto: CryptoSuite, i: number): JsonObject {
  return {
    studyKey: b64url(crypto, "st_", `study ${i}`),
    patient: b64url(crypto, "pt_", `patient ${i % 50_000}`),
    modalities: ["CT"],
    bodyPart: "CHEST",
    series: [
      {
        seriesKey: b64url(crypto, "se_", `series ${i} a`),
        modality: "CT",
        bodyPart: "CHEST",
        instanceCount: 240,
        manifestRoot: hex(crypto, `series ${i} a`),
      },
      {
        seriesKey: b64url(crypto, "se_", `series ${i} b`),
        modality: "CT",
        bodyPart: "CHEST",
        instanceCount: 120,
        manifestRoot: hex(crypto, `series ${i} b`),
      },
    ],
    instanceCount: 360,
    manifestRoot: hex(crypto, `study ${i}`),
    source: { kind: "pacs", name: "orthanc-main" },
  };
}

interface Draft {
  key: HeldKey;
  type: string;
  body: JsonObject;
  refs?: EntryRefs;
}

/**
 * One clinical case, ten entries: the study, the referring clinician's care assignment of the
 * radiologist, the report, an AI inference, contributions by a technologist, the AI system and two
 * radiologists (one editing the AI finding), sign-off, and the gatekeeper's access record for the
 * radiologist's read.
 */
const CASE_SIZE = 10;

function clinicalCase(crypto: CryptoSuite, setup: WorkloadSetup, c: number): Draft[] {
  const tech = benchKey(crypto, `bench-tech-${c % BENCH_TECHNOLOGISTS}`);
  const rad = benchKey(crypto, `bench-rad-${c % BENCH_RADIOLOGISTS}`);
  const second = benchKey(crypto, `bench-rad-${(c + 1) % BENCH_RADIOLOGISTS}`);
  const ai = benchKey(crypto, "bench-ai");
  const clinician = benchKey(crypto, "bench-clin-0");
  const studyBody = study(crypto, c);
  const patient = studyBody.patient as string;
  const drafts: Draft[] = [{ key: tech, type: "study.registered", body: studyBody }];
  drafts.push({
    key: clinician,
    type: "care.assigned",
    body: {
      patient,
      actor: rad.actor,
      relationship: "attending",
      period: { start: new Date(setup.time - 60_000).toISOString() },
    },
  });
  const content = (section: string, role: string, n: number, origin = "human"): JsonObject => ({
    section,
    role,
    contentCommitment: hex(crypto, `case ${c} content ${n}`),
    origin,
    bodySystem: "chest",
  });
  drafts.push({ key: rad, type: "report.opened", body: { reportKind: "diagnostic" } });
  drafts.push({
    key: ai,
    type: "ai.inference",
    body: {
      inputManifestRoot: hex(crypto, `study ${c}`),
      outputCommitment: hex(crypto, `case ${c} output`),
      node: "gpu-node-1",
      findingCount: 2,
    },
  });
  drafts.push({ key: tech, type: "report.contribution", body: content("technique", "technologist", 0) });
  drafts.push({ key: ai, type: "report.contribution", body: content("measurement", "ai-system", 1, "ai") });
  drafts.push({
    key: rad,
    type: "report.contribution",
    body: content("findings", "radiologist", 2, "ai-modified"),
  });
  drafts.push({ key: second, type: "report.contribution", body: content("impression", "radiologist", 3) });
  drafts.push({ key: rad, type: "report.signed", body: { attestation: "final" } });
  const seed =
    setup.institutionSeed === undefined
      ? undefined
      : Uint8Array.from(atob(setup.institutionSeed), (ch) => ch.charCodeAt(0));
  if (seed) {
    const publicKey = crypto.ed25519PublicKey(seed);
    const institution: HeldKey = {
      actor: "institution",
      seed,
      publicKey,
      keyId: actorKeyId(crypto, publicKey),
    };
    drafts.push({
      key: institution,
      type: "access.recorded",
      body: {
        actor: rad.actor,
        patient,
        part: { kind: "study", id: "" },
        action: "read",
        purpose: "TREAT",
        decision: "permit",
        basis: { kind: "care" },
      },
    });
  }
  return drafts;
}

/** Signs entry i of a workload; returns its bytes. Cases reference their own earlier entries by leaf hash. */
export function makeWorkloadRange(
  crypto: CryptoSuite,
  workload: WorkloadName,
  setup: WorkloadSetup,
  start: number,
  count: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const sign = (d: Draft): Uint8Array =>
    signAs(crypto, d.key, setup.origin, d.type, d.body, {
      time: setup.time,
      ...(d.refs ? { refs: d.refs } : {}),
    });
  if (workload === "studies") {
    for (let i = start; i < start + count; i++)
      out.push(
        sign({
          key: benchKey(crypto, `bench-tech-${i % BENCH_TECHNOLOGISTS}`),
          type: "study.registered",
          body: study(crypto, i),
        }),
      );
    return out;
  }
  // Clinical cases are generated whole; the range is cut from them.
  const firstCase = Math.floor(start / CASE_SIZE);
  const lastCase = Math.floor((start + count - 1) / CASE_SIZE);
  for (let c = firstCase; c <= lastCase; c++) {
    const drafts = clinicalCase(crypto, setup, c);
    const ids: string[] = [];
    const bytes: Uint8Array[] = [];
    // Entry k's references, by position in the case: 0 study, 1 care, 2 report, 3 inference,
    // 4–7 contributions (5 and 6 cite the inference), 8 sign-off, 9 access record.
    const refsOf = (k: number): EntryRefs => {
      if (k <= 1) return {};
      if (k === 2) return { study: ids[0]! };
      if (k === 3) return { model: setup.model!, study: ids[0]! };
      if (k <= 7) return { report: ids[2]!, ...(k === 5 || k === 6 ? { inference: ids[3]! } : {}) };
      if (k === 8) return { report: ids[2]!, contributions: [ids[4]!, ids[5]!, ids[6]!, ids[7]!] };
      return { care: ids[1]! };
    };
    drafts.forEach((d, k) => {
      const refs = refsOf(k);
      const draft = k === 9 ? { ...d, body: { ...d.body, part: { kind: "study", id: ids[0]! } } } : d;
      const b = sign(Object.keys(refs).length > 0 ? { ...draft, refs } : draft);
      ids.push(toHex(leafHash(crypto, b)));
      bytes.push(b);
    });
    bytes.forEach((b, k) => {
      const i = c * CASE_SIZE + k;
      if (i >= start && i < start + count) out.push(b);
    });
  }
  return out;
}
