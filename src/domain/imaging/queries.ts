/** Imaging queries: a study with every entry that references it; studies by patient; all studies. */
import { RadledgerError } from "../../core/errors.js";
import { fromUtf8 } from "../../core/bytes.js";
import type { LogReader, StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { getStudy, type StudyDoc } from "./state.js";

export function requireStudy(state: StateReader, id: string): StudyDoc {
  const study = getStudy(state, id);
  if (!study) throw new RadledgerError("RECORD_NOT_FOUND", `no study ${id}`);
  return study;
}

/** A study's record and every entry that references it, in log order (type, index, id, actor, time). */
export function studyRecord(
  store: LogReader,
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

/** Every patient pseudonym with a study in this log, in pseudonym order (cursor: the last pseudonym). */
export function listPatients(
  store: LogReader,
  options: { after?: string; limit?: number } = {},
): { items: { id: string }[]; next?: string } {
  const limit = Math.min(Math.max(1, options.limit ?? 100), 1000);
  const keys = store.indexKeys("study.patient", {
    ...(options.after === undefined ? {} : { after: options.after }),
    limit: limit + 1,
  });
  const items = keys.slice(0, limit).map((id) => ({ id }));
  return keys.length > limit ? { items, next: keys[limit - 1]! } : { items };
}
