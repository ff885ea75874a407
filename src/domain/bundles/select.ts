/**
 * Which entries belong to a bundle (docs/bundle-format.md §3), decided over the projections and the
 * reference index of the log, never by scanning it:
 *
 *  1. the record's own entries — found upward from its root entry through the entries that reference
 *     it (LogStore.referencesTo), following only the reference kinds listed per bundle kind below;
 *  2. everything those entries reference, transitively (the study a report is on, the inference and
 *     model behind AI content, the grant an access was permitted by), except references the kind
 *     keeps out (a trial bundle for a sponsor never carries the source study, whose patient
 *     pseudonym would link the trial subject to the patient's other records);
 *  3. for every signing key, the entry that enrolled it and the entry that retired or revoked it, if
 *     any, recursively for the signers of those, and the genesis entry (which binds the log key).
 *
 * Only entries below the checkpoint size are selected: a bundle proves inclusion in that checkpoint.
 */
import { fromHex } from "../../core/bytes.js";
import { decodeEntry, entryRefs, type Entry } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import { BUNDLE_KINDS, type BundleKind, type BundleSubject } from "../../core/bundle/format.js";
import type { LookupOptions, StateReader, StoredEntry } from "../../ports/storage.js";
import { getKey, INSTITUTION_ACTOR } from "../identity/state.js";
import type { DatasetDoc } from "../datasets/state.js";

/** What selection reads: projections plus the log's entries and reference index. */
export interface SelectionSource extends StateReader {
  readEntry(index: number): StoredEntry | undefined;
  indexOfLeafHash(leafHash: Uint8Array): number | undefined;
  referencesTo(target: number, options?: LookupOptions): { source: number; name: string }[];
}

export interface BundleRequest {
  readonly kind: string;
  readonly id: string;
  /** Dataset bundles: the sealed version (default: the latest sealed one). */
  readonly version?: number;
}

export interface Selection {
  readonly kind: BundleKind;
  readonly subject: BundleSubject;
  /** Log indexes, ascending. */
  readonly entries: number[];
}

/** Per kind: which entry types, referencing an entry of the record by which reference, join the record. */
const UPWARD: Record<BundleKind, Record<string, readonly string[]>> = {
  report: {
    "report.contribution": ["report"],
    "consult.requested": ["report"],
    "consult.answered": ["consult"],
    "report.signed": ["report"],
    "report.amended": ["report"],
    "report.cosigned": ["report"],
    "report.section.verified": ["report"],
    "ai.finding.disposition": ["report", "inference"],
  },
  trial: {
    "trial.subject.enrolled": ["trial"],
    "trial.timepoint.imaged": ["subject"],
    "trial.read.recorded": ["timepoint"],
    "trial.correction": ["corrects"],
  },
  "trial-subject": {
    "trial.timepoint.imaged": ["subject"],
    "trial.read.recorded": ["timepoint"],
    "trial.correction": ["corrects"],
  },
  dataset: {
    "dataset.item.added": ["dataset"],
    "dataset.annotation.added": ["dataset"],
    "dataset.contribution.vendor": ["dataset"],
    "dataset.version.sealed": ["dataset"],
    "dataset.shared": ["version"],
    "model.validation.recorded": ["version"],
  },
  access: {
    "access.reviewed": ["access"],
    "consent.revoked": ["grant"],
    "care.ended": ["care"],
  },
};

/** Entry types reached downward whose own referencers (by UPWARD's rules) join the bundle. */
const UPWARD_FROM_REFERENCED: Record<BundleKind, readonly string[]> = {
  report: ["ai.inference"],
  trial: [],
  "trial-subject": [],
  dataset: [],
  access: ["consent.granted", "care.assigned"],
};

/** References not followed downward, per kind (see the module comment). */
const KEEP_OUT: Record<BundleKind, readonly string[]> = {
  report: [],
  trial: ["study"],
  "trial-subject": ["study"],
  dataset: [],
  access: [],
};

const ROOT_TYPE: Record<Exclude<BundleKind, "access">, string> = {
  report: "report.opened",
  trial: "trial.registered",
  "trial-subject": "trial.subject.enrolled",
  dataset: "dataset.created",
};

const HEX64 = /^[0-9a-f]{64}$/;

export function parseBundleKind(kind: string): BundleKind {
  if (!(BUNDLE_KINDS as readonly string[]).includes(kind))
    throw new RadledgerError(
      "BUNDLE_KIND_UNKNOWN",
      `no bundle kind ${JSON.stringify(kind.slice(0, 40))}; one of ${BUNDLE_KINDS.join(", ")}`,
      {
        at: "kind",
      },
    );
  return kind as BundleKind;
}

export function selectBundle(src: SelectionSource, request: BundleRequest, size: number): Selection {
  const kind = parseBundleKind(request.kind);
  const cache = new Map<number, Entry>();
  const read = (index: number): Entry => {
    let e = cache.get(index);
    if (!e) {
      const stored = src.readEntry(index);
      if (!stored) throw new RadledgerError("STORE_CORRUPT", `entry ${index} is missing`);
      e = decodeEntry(stored.bytes);
      // Bulk bundles (10^5 dataset items) would hold every entry twice; keep only what is revisited.
      if (cache.size < 50_000) cache.set(index, e);
    }
    return e;
  };
  const indexOf = (id: string): number | undefined =>
    HEX64.test(id) ? src.indexOfLeafHash(fromHex(id)) : undefined;
  const notFound = (what: string): never => {
    throw new RadledgerError(
      "RECORD_NOT_FOUND",
      `no ${what} ${request.id.slice(0, 80)} as of tree size ${size}`,
    );
  };

  const selected = new Set<number>();
  const queue: number[] = [];
  const add = (index: number): void => {
    if (index < size && !selected.has(index)) {
      selected.add(index);
      queue.push(index);
    }
  };

  let subject: BundleSubject;
  let limit = size; // dataset versions: nothing added after the seal
  let seal = -1; // dataset versions: the seal's index
  if (kind === "access") {
    if (!/^[A-Za-z0-9_:.-]{1,128}$/.test(request.id)) notFound("patient");
    subject = { id: request.id };
    // The accesses this node decided and those other hospital systems reported about the patient
    // (access.reported, IHE ATNA): the patient verifies both offline (issue 21 §2). A report's
    // signer, the system actor, joins through step 3 like every signer.
    const rows = [
      ...src.lookup("access.patient", request.id),
      ...src.lookup("access.reported.patient", request.id),
    ];
    for (const r of rows) {
      const i = indexOf(r.value);
      if (i !== undefined) add(i);
    }
    if (selected.size === 0) notFound("access history for patient");
  } else {
    const root = indexOf(request.id);
    if (root === undefined || root >= size || read(root).type !== ROOT_TYPE[kind])
      return notFound(ROOT_TYPE[kind]);
    add(root);
    subject = { id: request.id };
    if (kind === "dataset") {
      const doc = src.getDoc("dataset", request.id) as DatasetDoc | undefined;
      const versions = (doc?.versions ?? []).filter((v) => v.index < size);
      const v =
        request.version === undefined
          ? versions[versions.length - 1]
          : versions.find((x) => x.version === request.version);
      if (!v)
        throw new RadledgerError(
          "RECORD_NOT_FOUND",
          request.version === undefined
            ? `dataset ${request.id.slice(0, 16)} has no sealed version as of tree size ${size}`
            : `dataset ${request.id.slice(0, 16)} has no sealed version ${request.version} as of tree size ${size}`,
        );
      subject = { id: request.id, version: v.version };
      limit = v.index + 1;
      seal = v.index;
    }
  }

  // 1. Upward: the record's own entries.
  const upward = UPWARD[kind];
  const record = [...queue];
  for (let q = 0; q < record.length; q++) {
    const target = record[q]!;
    for (const { source, name } of src.referencesTo(target)) {
      if (source >= size || selected.has(source)) continue;
      const e = read(source);
      if (!upward[e.type]?.includes(name)) continue;
      // A dataset version holds what was added before its seal; shares and validations of it come later.
      if (kind === "dataset" && name === "dataset" && source >= limit) continue;
      if (kind === "dataset" && name === "version" && target !== seal) continue;
      add(source);
      record.push(source);
    }
  }

  // 2. Downward: everything referenced, transitively; then 3. identity.
  const keepOut = KEEP_OUT[kind];
  add(0);
  // Every log key rotation before the checkpoint: a verifier who trusts an earlier log key follows
  // them to the key that signed it (docs/log-format.md §Log key rotation).
  const institution = src.getDoc("actor", INSTITUTION_ACTOR) as { keys?: unknown } | undefined;
  if (Array.isArray(institution?.keys))
    for (const id of institution.keys)
      if (typeof id === "string") {
        const k = getKey(src, id);
        if (k && k.enrolledAt > 0) add(k.enrolledAt);
      }
  for (let q = 0; q < queue.length; q++) {
    const e = read(queue[q]!);
    for (const r of entryRefs(e)) {
      if (keepOut.includes(r.name)) continue;
      const i = indexOf(r.hash);
      if (i !== undefined) add(i);
    }
    const key = getKey(src, e.key);
    if (key) {
      add(key.enrolledAt);
      if (key.endedAt !== undefined) add(key.endedAt);
    }
    // Entries about something the record references: a disposition of the report's AI inference, a
    // grant's revocation or a care relationship's end in an access history.
    if (UPWARD_FROM_REFERENCED[kind].includes(e.type)) {
      for (const { source, name } of src.referencesTo(queue[q]!)) {
        if (source >= size || selected.has(source)) continue;
        const other = read(source);
        if (!upward[other.type]?.includes(name)) continue;
        const report = other.refs?.report;
        if (kind === "report" && report !== undefined && report !== request.id) continue;
        add(source);
      }
    }
  }
  return { kind, subject, entries: [...selected].sort((a, b) => a - b) };
}
