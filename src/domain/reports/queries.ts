/** Report queries: a report with per-section attribution, AI origin, consultations and amendment history. */
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import { getActor } from "../identity/state.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import type { ModelDoc } from "../ai/state.js";
import type { ContributionView, ReportDoc } from "./state.js";

export interface ModelSummary {
  readonly id: string;
  readonly vendor: string;
  readonly name: string;
  readonly version: string;
  readonly status: string;
}

export interface AttributedSection extends ContributionView {
  readonly authorName?: string;
  readonly enteredByName?: string;
  readonly modelVersion?: ModelSummary;
}

export interface ReportView {
  readonly id: string;
  readonly study: string;
  readonly patient: string;
  readonly status: "open" | "signed";
  readonly openedBy: string;
  readonly openedAt: string;
  readonly sections: AttributedSection[];
  readonly consultations: ReportDoc["consults"];
  readonly signOff?: ReportDoc["signOff"] & { byName?: string };
  readonly amendments: AttributedSection[];
  readonly models: ModelSummary[];
  /** An attending's co-signature of a preliminary sign-off. */
  readonly cosignature?: NonNullable<ReportDoc["cosignature"]> & { byName?: string };
  /** Sections verified by someone other than their author. */
  readonly verifications: NonNullable<ReportDoc["verifications"]>;
  /** The radiologists' decisions on the AI findings (accepted / modified / rejected, by whom, when). */
  readonly aiDispositions: NonNullable<ReportDoc["aiDispositions"]>;
}

export function getReportDoc(state: StateReader, id: string): ReportDoc {
  const doc = state.getDoc("report", id) as ReportDoc | undefined;
  if (!doc) throw new RadledgerError("RECORD_NOT_FOUND", `no report ${id}`);
  return doc;
}

export function modelSummary(state: StateReader, id: string): ModelSummary | undefined {
  const m = state.getDoc("ai.model", id) as ModelDoc | undefined;
  return m && { id: m.id, vendor: m.vendor, name: m.name, version: m.version, status: m.status };
}

function displayName(state: StateReader, actor: string): string | undefined {
  const doc = getActor(state, actor);
  return typeof doc?.displayName === "string" ? doc.displayName : undefined;
}

function attributed(state: StateReader, c: ContributionView): AttributedSection {
  const name = displayName(state, c.author);
  const enterer = c.enteredBy === undefined ? undefined : displayName(state, c.enteredBy);
  const model = c.model === undefined ? undefined : modelSummary(state, c.model);
  return {
    ...c,
    ...(name === undefined ? {} : { authorName: name }),
    ...(enterer === undefined ? {} : { enteredByName: enterer }),
    ...(model ? { modelVersion: model } : {}),
  };
}

/** Which model versions contributed to report R (directly or through an amendment). */
export function modelsUsedInReport(state: StateReader, id: string): ModelSummary[] {
  const doc = getReportDoc(state, id);
  const ids = new Set(
    [...doc.contributions, ...doc.amendments].flatMap((c) => (c.model === undefined ? [] : [c.model])),
  );
  return [...ids].map((m) => modelSummary(state, m)!);
}

export function reportView(state: StateReader, id: string): ReportView {
  const doc = getReportDoc(state, id);
  const signer = doc.signOff ? displayName(state, doc.signOff.by) : undefined;
  const cosigner = doc.cosignature ? displayName(state, doc.cosignature.by) : undefined;
  return {
    id: doc.id,
    study: doc.study,
    patient: doc.patient,
    status: doc.status,
    openedBy: doc.openedBy,
    openedAt: doc.openedAt,
    sections: doc.contributions.map((c) => attributed(state, c)),
    consultations: doc.consults,
    ...(doc.signOff
      ? { signOff: { ...doc.signOff, ...(signer === undefined ? {} : { byName: signer }) } }
      : {}),
    amendments: doc.amendments.map((c) => attributed(state, c)),
    models: modelsUsedInReport(state, id),
    ...(doc.cosignature
      ? {
          cosignature: {
            ...doc.cosignature,
            ...(cosigner === undefined ? {} : { byName: cosigner }),
          },
        }
      : {}),
    verifications: doc.verifications ?? [],
    aiDispositions: doc.aiDispositions ?? [],
  };
}

export function listReports(
  state: StateReader,
  options: PageOptions = {},
): Page<{ id: string; study: string; patient: string; status: string }> {
  const o = lookupOptions(options);
  return page(state.lookup("report.all", "", { ...o, limit: o.limit + 1 }), o.limit, (r) => {
    const d = getReportDoc(state, r.value);
    return { id: d.id, study: d.study, patient: d.patient, status: d.status };
  });
}

export function reportsOfPatient(
  state: StateReader,
  patient: string,
  options: PageOptions = {},
): Page<{ id: string; study: string; status: string }> {
  const o = lookupOptions(options);
  return page(state.lookup("report.patient", patient, { ...o, limit: o.limit + 1 }), o.limit, (r) => {
    const d = getReportDoc(state, r.value);
    return { id: d.id, study: d.study, status: d.status };
  });
}
