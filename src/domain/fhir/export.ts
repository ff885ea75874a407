/**
 * FHIR R4 export (issue 5 §6): a Bundle (type collection) of the resources of resources.ts for one
 * patient, one report, or everything recorded since a time. Reads projections and, for `since`, the
 * log itself (entries are in time order up to the admission window, so a binary search finds where
 * to start). Pure apart from the store it is given.
 */
import type { AuditEvent, Bundle, BundleEntry, FhirResource } from "fhir/r4.js";
import type { CryptoSuite } from "../../core/crypto.js";
import { fromUtf8, toHex } from "../../core/bytes.js";
import { RadledgerError } from "../../core/errors.js";
import { isCanonicalTime } from "../../core/entry.js";
import type { LogReader, StateReader } from "../../ports/storage.js";
import { getAccess, type AccessDoc } from "../access/state.js";
import type { ModelDoc } from "../ai/state.js";
import { getGrant, grantDocsOfPatient } from "../consent/state.js";
import { getActor } from "../identity/state.js";
import { getStudy } from "../imaging/state.js";
import type { ReportDoc } from "../reports/state.js";
import {
  auditEventOf,
  authzConsentEventOf,
  consentOf,
  contributionProvenance,
  deviceOf,
  diagnosticReportOf,
  inferenceProvenance,
  signOffProvenance,
  type InferenceView,
} from "./resources.js";

export type FhirScope =
  { readonly patient: string } | { readonly report: string } | { readonly since: string };

export interface FhirExportOptions {
  /** Base for Bundle.entry.fullUrl, e.g. https://node.example/api/v1/fhir (default from the origin). */
  readonly base?: string;
  /** Bundle.timestamp. */
  readonly now: string;
  /** Admission window of entry times (entries may be up to this much older than their index). */
  readonly windowMs?: number;
}

interface Collected {
  reports: Set<string>;
  inferences: Set<string>;
  models: Set<string>;
  grants: Set<string>;
  accesses: Set<string>;
}

const leafHash = (crypto: CryptoSuite, bytes: Uint8Array): string => {
  const b = new Uint8Array(bytes.length + 1);
  b.set(bytes, 1);
  return toHex(crypto.sha256(b));
};

function all<T>(read: (after?: number) => { items: T[]; next?: number | string }): T[] {
  const out: T[] = [];
  let after: number | undefined;
  for (;;) {
    const p = read(after);
    out.push(...p.items);
    if (p.next === undefined) return out;
    after = Number(p.next);
  }
}

function rows(state: StateReader, index: string, key: string): string[] {
  return all((after) => {
    const r = state.lookup(index, key, { ...(after === undefined ? {} : { after }), limit: 1001 });
    return r.length > 1000
      ? { items: r.slice(0, 1000).map((x) => x.value), next: r[999]!.seq }
      : { items: r.map((x) => x.value) };
  });
}

function collectPatient(store: LogReader, crypto: CryptoSuite, patient: string, c: Collected): void {
  for (const r of rows(store, "report.patient", patient)) c.reports.add(r);
  for (const s of rows(store, "study.patient", patient)) {
    const study = getStudy(store, s);
    if (study === undefined) continue;
    for (const ref of store.referencesTo(study.index)) {
      const e = store.readEntry(ref.source);
      if (e?.type === "ai.inference") c.inferences.add(leafHash(crypto, e.bytes));
    }
  }
  for (const g of grantDocsOfPatient(store, patient)) c.grants.add(g.id);
  for (const a of rows(store, "access.patient", patient)) c.accesses.add(a);
}

function collectReport(store: LogReader, id: string, c: Collected): void {
  const r = store.getDoc("report", id) as ReportDoc | undefined;
  if (r === undefined) throw new RadledgerError("RECORD_NOT_FOUND", `no report ${id}`);
  c.reports.add(id);
  for (const a of rows(store, "access.patient", r.patient)) {
    const doc = getAccess(store, a);
    const p = doc?.part;
    if (
      p !== undefined &&
      ((p.kind === "report" && p.id === id) || (p.kind === "report-section" && p.report === id))
    )
      c.accesses.add(a);
  }
}

/** First index whose entry time may be ≥ since (times are ordered up to the admission window). */
function firstIndexFrom(store: LogReader, since: string, windowMs: number): number {
  const bound = new Date(Date.parse(since) - windowMs).toISOString();
  const timeOf = (i: number): string =>
    (JSON.parse(fromUtf8(store.readEntry(i)!.bytes)) as { time: string }).time;
  let lo = 0;
  let hi = store.size();
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (timeOf(mid) < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function collectSince(
  store: LogReader,
  crypto: CryptoSuite,
  since: string,
  windowMs: number,
  c: Collected,
): void {
  store.forEachEntry(
    (e) => {
      const entry = JSON.parse(fromUtf8(e.bytes)) as {
        time: string;
        refs?: Record<string, string | string[]>;
      };
      if (entry.time < since) return;
      const ref = (name: string): string | undefined => {
        const v = entry.refs?.[name];
        return typeof v === "string" ? v : undefined;
      };
      const self = (): string => leafHash(crypto, e.bytes);
      switch (e.type) {
        case "report.opened":
          c.reports.add(self());
          break;
        case "report.contribution":
        case "consult.requested":
        case "consult.answered":
        case "report.signed":
        case "report.amended": {
          const r = ref("report");
          if (r !== undefined) c.reports.add(r);
          break;
        }
        case "ai.inference":
          c.inferences.add(self());
          break;
        case "ai.model.registered":
          c.models.add(self());
          break;
        case "access.recorded":
          c.accesses.add(self());
          break;
        case "access.reviewed": {
          const a = ref("access");
          if (a !== undefined) c.accesses.add(a);
          break;
        }
        case "consent.granted":
          c.grants.add(self());
          break;
        case "consent.revoked": {
          const g = ref("grant");
          if (g !== undefined) c.grants.add(g);
          break;
        }
      }
    },
    firstIndexFrom(store, since, windowMs),
  );
}

/**
 * The Consents a decision was made on (BALP AuthZconsent entity[consent]): the grant a permit rests
 * on, or — for a deny — every grant of the patient's on file at the time (none matched). Other
 * bases (the patient themself, care, role, break-glass) and denies with no grant on file are not
 * consent decisions and get no AuthZconsent event.
 */
export function decisionConsents(store: StateReader, a: AccessDoc): string[] {
  if (a.decision === "permit")
    return a.basis?.kind === "consent" && a.basis.grant !== undefined ? [a.basis.grant] : [];
  return grantDocsOfPatient(store, a.patient)
    .filter((g) => g.grantedAt <= a.time)
    .map((g) => g.id);
}

export function fhirExport(
  store: LogReader,
  crypto: CryptoSuite,
  origin: string,
  scope: FhirScope,
  o: FhirExportOptions,
): Bundle {
  const c: Collected = {
    reports: new Set(),
    inferences: new Set(),
    models: new Set(),
    grants: new Set(),
    accesses: new Set(),
  };
  if ("patient" in scope) collectPatient(store, crypto, scope.patient, c);
  else if ("report" in scope) collectReport(store, scope.report, c);
  else {
    if (!isCanonicalTime(scope.since))
      throw new RadledgerError("INPUT_INVALID", "since must be RFC 3339 UTC with milliseconds", {
        at: "since",
      });
    collectSince(store, crypto, scope.since, o.windowMs ?? 15 * 60_000, c);
  }
  const names = (actor: string): string | undefined => {
    const d = getActor(store, actor);
    // Never a patient's name: only staff and systems have display names in exports.
    return d !== undefined && d.kind !== "patient" && typeof d.displayName === "string"
      ? d.displayName
      : undefined;
  };
  const resources: FhirResource[] = [];
  for (const id of c.reports) {
    const r = store.getDoc("report", id) as ReportDoc | undefined;
    if (r === undefined) continue;
    resources.push(diagnosticReportOf(r, names));
    for (const x of [...r.contributions, ...r.amendments]) {
      resources.push(
        contributionProvenance(
          r,
          x,
          names(x.author),
          x.enteredBy === undefined ? undefined : names(x.enteredBy),
        ),
      );
      if (x.model !== undefined) c.models.add(x.model);
      if (x.inference !== undefined) c.inferences.add(x.inference);
    }
    const s = signOffProvenance(r, r.signOff === undefined ? undefined : names(r.signOff.by));
    if (s !== undefined) resources.push(s);
  }
  for (const id of c.inferences) {
    const i = store.getDoc("ai.inference", id) as InferenceView | undefined;
    if (i === undefined) continue;
    resources.push(inferenceProvenance(i));
    c.models.add(i.model);
  }
  for (const id of c.models) {
    const m = store.getDoc("ai.model", id) as ModelDoc | undefined;
    if (m !== undefined) resources.push(deviceOf(m));
  }
  const accesses: AuditEvent[] = [];
  for (const id of c.accesses) {
    const a = store.getDoc("access", id) as AccessDoc | undefined;
    if (a === undefined) continue;
    accesses.push(auditEventOf(a, origin, names(a.actor)));
    const consents = decisionConsents(store, a);
    if (consents.length === 0) continue;
    accesses.push(authzConsentEventOf(a, origin, consents, names(a.actor)));
    // The Bundle carries the Consents its AuthZconsent events reference.
    for (const g of consents) c.grants.add(g);
  }
  for (const id of c.grants) {
    const g = getGrant(store, id);
    if (g !== undefined) resources.push(consentOf(g, origin));
  }
  resources.push(...accesses);
  const base = (o.base ?? `https://${origin}/fhir`).replace(/\/+$/, "");
  const entry: BundleEntry[] = resources.map((resource) => ({
    fullUrl: `${base}/${resource.resourceType}/${resource.id ?? ""}`,
    resource,
  }));
  return { resourceType: "Bundle", type: "collection", timestamp: o.now, entry };
}
