/**
 * The reading worklist (issue 20, "Who does what" 2; docs/web.md "Worklist"): reports and studies
 * with what a radiologist scans a list for — when, which modality, the report's stage (draft,
 * signed, amended) and who is on it — plus the report page's working view: the AI findings on the
 * report's study with each finding's disposition, and consultations with their times and names.
 *
 * Everything here is read from the projections the reports, AI and imaging families already keep
 * (docs/families/reports.md, ai.md, imaging.md): no new index, so nothing in the log format changes.
 */
import { fromUtf8, toHex } from "../../core/bytes.js";
import type { CryptoSuite } from "../../core/crypto.js";
import { leafHash } from "../../core/merkle/hash.js";
import type { LogReader, StateReader } from "../../ports/storage.js";
import { getStudy, type StudyDoc } from "../imaging/state.js";
import { getActor } from "../identity/state.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { getReportDoc, modelSummary, reportView, type ModelSummary, type ReportView } from "./queries.js";
import type { ReportDoc } from "./state.js";

/** A report's stage as a reader sees it: open (draft), signed, or signed and since amended. */
export type ReportStage = "draft" | "signed" | "amended";

export const REPORT_STAGES: readonly ReportStage[] = ["draft", "signed", "amended"];

export interface Person {
  readonly id: string;
  readonly name?: string;
}

export interface WorklistReport {
  readonly id: string;
  readonly study: string;
  readonly patient: string;
  /** The projection's status, as before: open or signed. */
  readonly status: "open" | "signed";
  readonly stage: ReportStage;
  readonly reportKind?: string;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  /** Everyone on the report: who opened it, authors, people who entered content, consultants, signer. */
  readonly contributors: Person[];
  readonly sections: number;
  readonly amendments: number;
  readonly openConsultations: number;
  readonly signedAt?: string;
  readonly signedBy?: string;
}

export interface WorklistFilter {
  readonly stage?: ReportStage;
  /** Only reports this actor is on (opened, contributed, consulted, signed). */
  readonly actor?: string;
  /** newest: latest opened first. */
  readonly newestFirst?: boolean;
}

/**
 * A filtered page examines at most this many reports, then answers what it found with `next` (so a
 * filter that matches nothing in a million reports never holds a request for the whole scan).
 */
export const MAX_EXAMINED = 10_000;

function nameOf(state: StateReader, id: string): Person {
  const doc = getActor(state, id);
  return typeof doc?.displayName === "string" ? { id, name: doc.displayName } : { id };
}

export function stageOf(doc: ReportDoc): ReportStage {
  if (doc.status === "open") return "draft";
  return doc.amendments.length > 0 ? "amended" : "signed";
}

function peopleOn(doc: ReportDoc): string[] {
  const ids = new Set<string>([doc.openedBy]);
  for (const c of [...doc.contributions, ...doc.amendments]) {
    ids.add(c.author);
    if (c.enteredBy !== undefined) ids.add(c.enteredBy);
  }
  for (const c of doc.consults) {
    ids.add(c.from);
    ids.add(c.to);
  }
  if (doc.signOff) ids.add(doc.signOff.by);
  return [...ids];
}

export function worklistItem(state: StateReader, doc: ReportDoc): WorklistReport {
  const study = getStudy(state, doc.study);
  return {
    id: doc.id,
    study: doc.study,
    patient: doc.patient,
    status: doc.status,
    stage: stageOf(doc),
    ...(typeof doc.reportKind === "string" ? { reportKind: doc.reportKind } : {}),
    openedBy: doc.openedBy,
    openedAt: doc.openedAt,
    modalities: study?.modalities ?? [],
    ...(study?.bodyPart === undefined ? {} : { bodyPart: study.bodyPart }),
    contributors: peopleOn(doc).map((id) => nameOf(state, id)),
    sections: doc.contributions.length,
    amendments: doc.amendments.length,
    openConsultations: doc.consults.filter((c) => c.status === "open").length,
    ...(doc.signOff ? { signedAt: doc.signOff.time, signedBy: doc.signOff.by } : {}),
  };
}

/**
 * Reports in log order (or newest first), filtered by stage and by who is on them. Unfiltered it
 * reads one page of the `report.all` index; filtered it reads pages of the index until the page is
 * full or MAX_EXAMINED reports were looked at, and `next` continues after the last one examined.
 */
export function worklistReports(
  state: StateReader,
  filter: WorklistFilter = {},
  options: PageOptions = {},
): Page<WorklistReport> {
  const o = lookupOptions(options);
  const items: WorklistReport[] = [];
  let cursor = o.after;
  let examined = 0;
  for (;;) {
    const batch = Math.min(Math.max(o.limit + 1, 256), MAX_EXAMINED - examined + 1);
    const rows = state.lookup("report.all", "", {
      ...(cursor === undefined ? {} : { after: cursor }),
      limit: batch,
      ...(filter.newestFirst ? { reverse: true } : {}),
    });
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (items.length === o.limit || examined === MAX_EXAMINED) return { items, next: cursor! };
      examined++;
      cursor = row.seq;
      const doc = getReportDoc(state, row.value);
      if (filter.stage !== undefined && stageOf(doc) !== filter.stage) continue;
      if (filter.actor !== undefined && !peopleOn(doc).includes(filter.actor)) continue;
      items.push(worklistItem(state, doc));
    }
    if (rows.length < batch) return { items };
  }
}

/** A consultation asked of someone and not yet answered, with what a worklist row shows. */
export interface AskedConsultation {
  /** The consult.requested entry (its leaf hash): what consult.answered references. */
  readonly id: string;
  readonly report: string;
  readonly reportStage: ReportStage;
  readonly study: string;
  readonly patient: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly from: string;
  readonly fromName?: string;
  readonly specialty?: string;
  readonly requestedAt?: string;
}

/**
 * The open consultations asked of `actor`, oldest first: one page of the `consult.open` index the
 * reports family keeps (actor → open requests; the answer removes the row), so the list costs what
 * it holds, not the log's size.
 */
export function consultationsAskedOf(
  store: LogReader,
  actor: string,
  options: PageOptions = {},
): Page<AskedConsultation> {
  const o = lookupOptions(options);
  const rows = store.lookup("consult.open", actor, { ...o, limit: o.limit + 1 });
  return page(rows, o.limit, (row): AskedConsultation => {
    const c = store.getDoc("consult", row.value) as {
      id: string;
      report: string;
      from: string;
      specialty?: string;
    };
    const doc = getReportDoc(store, c.report);
    const study = getStudy(store, doc.study);
    const from = nameOf(store, c.from);
    const requestedAt = entryTime(store, row.seq);
    return {
      id: c.id,
      report: doc.id,
      reportStage: stageOf(doc),
      study: doc.study,
      patient: doc.patient,
      modalities: study?.modalities ?? [],
      ...(study?.bodyPart === undefined ? {} : { bodyPart: study.bodyPart }),
      from: c.from,
      ...(from.name === undefined ? {} : { fromName: from.name }),
      ...(c.specialty === undefined ? {} : { specialty: c.specialty }),
      ...(requestedAt === undefined ? {} : { requestedAt }),
    };
  });
}

export interface WorklistStudy extends StudyDoc {
  readonly registeredAt?: string;
  /** Reports opened on the study, in log order. */
  readonly reports: { id: string; stage: ReportStage }[];
}

/** A study with its registration time and its reports (ids and stages), for the worklist. */
export function worklistStudy(store: LogReader, study: StudyDoc): WorklistStudy {
  const stored = store.readEntry(study.index);
  const time = stored ? (JSON.parse(fromUtf8(stored.bytes)) as { time?: string }).time : undefined;
  const reports = store.lookupValues("report.study", study.id).map((id) => {
    const doc = getReportDoc(store, id);
    return { id, stage: stageOf(doc) };
  });
  return { ...study, ...(time === undefined ? {} : { registeredAt: time }), reports };
}

export interface Disposition {
  readonly disposition: "accepted" | "modified" | "rejected";
  readonly by: string;
  readonly byName?: string;
  readonly index: number;
  readonly time?: string;
  /** The report the radiologist decided it for, when named. */
  readonly report?: string;
}

export interface AiFinding {
  /** The ai.inference entry (its leaf hash). */
  readonly inference: string;
  readonly model?: ModelSummary;
  readonly time?: string;
  readonly findingCount?: number;
  /** Every disposition of the inference for this report (or for no report), in log order. */
  readonly dispositions: Disposition[];
  /** The latest disposition, or pending when none was recorded. */
  readonly status: Disposition["disposition"] | "pending";
}

export interface Consultation {
  readonly id: string;
  readonly from: string;
  readonly fromName?: string;
  readonly to: string;
  readonly toName?: string;
  readonly specialty?: string;
  readonly status: "open" | "answered";
  readonly requestedAt?: string;
  readonly answer?: string;
  readonly answeredAt?: string;
}

/** What the report page shows besides the report view: AI findings with dispositions, consultations. */
export interface ReportWorkView extends ReportView {
  readonly stage: ReportStage;
  readonly reportKind?: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly openedByName?: string;
  readonly aiFindings: AiFinding[];
  readonly consultationsDetail: Consultation[];
}

function entryTime(store: LogReader, index: number): string | undefined {
  const stored = store.readEntry(index);
  return stored ? (JSON.parse(fromUtf8(stored.bytes)) as { time?: string }).time : undefined;
}

/** Disposition rows are "<disposition> <actor>[ <report>]" (src/domain/ai/entries.ts). */
function dispositionsOf(store: LogReader, inference: string, report: string): Disposition[] {
  return store.lookup("ai.disposition", inference, { limit: 1000 }).flatMap((row) => {
    const [disposition, by, forReport] = row.value.split(" ");
    if (forReport !== undefined && forReport !== report) return [];
    const who = nameOf(store, by!);
    const time = entryTime(store, row.seq);
    return [
      {
        disposition: disposition as Disposition["disposition"],
        by: by!,
        ...(who.name === undefined ? {} : { byName: who.name }),
        index: row.seq,
        ...(time === undefined ? {} : { time }),
        ...(forReport === undefined ? {} : { report: forReport }),
      },
    ];
  });
}

export function reportWorkView(store: LogReader, crypto: CryptoSuite, id: string): ReportWorkView {
  const doc = getReportDoc(store, id);
  const view = reportView(store, id);
  const study = getStudy(store, doc.study);
  // Inferences: those the report's sections cite, and every inference made on the report's study.
  const inferences = new Set<string>();
  for (const c of [...doc.contributions, ...doc.amendments])
    if (c.inference !== undefined) inferences.add(c.inference);
  if (study)
    for (const ref of store.referencesTo(study.index)) {
      const stored = store.readEntry(ref.source);
      // The projection keys inferences by leaf hash (RFC 9162 §2.1.1), which the index row lacks.
      if (stored?.type === "ai.inference") inferences.add(toHex(leafHash(crypto, stored.bytes)));
    }
  const aiFindings = [...inferences].map((inf): AiFinding => {
    const d = store.getDoc("ai.inference", inf) as
      { model: string; time?: string; findingCount?: number } | undefined;
    const model = d ? modelSummary(store, d.model) : undefined;
    const dispositions = dispositionsOf(store, inf, doc.id);
    return {
      inference: inf,
      ...(model ? { model } : {}),
      ...(d?.time === undefined ? {} : { time: d.time }),
      ...(d?.findingCount === undefined ? {} : { findingCount: d.findingCount }),
      dispositions,
      status: dispositions.at(-1)?.disposition ?? "pending",
    };
  });
  const contributionTime = new Map(doc.contributions.map((c) => [c.id, c.time]));
  const consultationsDetail = doc.consults.map((c): Consultation => {
    const stored = store.entryByLeafHash(c.id);
    const requestedAt = stored ? entryTime(store, stored.index) : undefined;
    const from = nameOf(store, c.from);
    const to = nameOf(store, c.to);
    const answeredAt = c.answer === undefined ? undefined : contributionTime.get(c.answer);
    return {
      ...c,
      ...(from.name === undefined ? {} : { fromName: from.name }),
      ...(to.name === undefined ? {} : { toName: to.name }),
      ...(requestedAt === undefined ? {} : { requestedAt }),
      ...(answeredAt === undefined ? {} : { answeredAt }),
    };
  });
  const opener = nameOf(store, doc.openedBy);
  return {
    ...view,
    stage: stageOf(doc),
    ...(typeof doc.reportKind === "string" ? { reportKind: doc.reportKind } : {}),
    modalities: study?.modalities ?? [],
    ...(study?.bodyPart === undefined ? {} : { bodyPart: study.bodyPart }),
    ...(opener.name === undefined ? {} : { openedByName: opener.name }),
    aiFindings,
    consultationsDetail,
  };
}
