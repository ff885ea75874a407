/** Imaging queries: a study with every entry that references it; studies by patient; all studies. */
import { RadledgerError } from "../../core/errors.js";
import { fromUtf8 } from "../../core/bytes.js";
import type { LogStore, StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";

export interface StudyDoc {
  readonly id: string;
  readonly index: number;
  readonly patient: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly instanceCount: number;
  readonly manifestRoot: string;
  readonly [key: string]: unknown;
}

export function getStudy(state: StateReader, id: string): StudyDoc | undefined {
  return state.getDoc("study", id) as StudyDoc | undefined;
}

export function requireStudy(state: StateReader, id: string): StudyDoc {
  const study = getStudy(state, id);
  if (!study) throw new RadledgerError("RECORD_NOT_FOUND", `no study ${id}`);
  return study;
}

/** A study's record and every entry that references it, in log order (type, index, id, actor, time). */
export function studyRecord(
  store: LogStore,
  id: string,
): {
  study: StudyDoc;
  referencedBy: { index: number; type: string; ref: string; actor: string; time: string }[];
} {
  const study = requireStudy(store, id);
  const referencedBy = store.referencesTo(study.index).map(({ source, name }) => {
    const stored = store.readEntry(source)!;
    const entry = JSON.parse(fromUtf8(stored.bytes)) as { actor: string; time: string };
    return { index: source, type: stored.type, ref: name, actor: entry.actor, time: entry.time };
  });
  return { study, referencedBy };
}

export function studiesOfPatient(
  state: StateReader,
  patient: string,
  options: PageOptions = {},
): Page<StudyDoc> {
  const o = lookupOptions(options);
  return page(state.lookup("study.patient", patient, { ...o, limit: o.limit + 1 }), o.limit, (r) =>
    getStudy(state, r.value)!,
  );
}

export function listStudies(state: StateReader, options: PageOptions = {}): Page<StudyDoc> {
  const o = lookupOptions(options);
  return page(state.lookup("study.all", "", { ...o, limit: o.limit + 1 }), o.limit, (r) =>
    getStudy(state, r.value)!,
  );
}
