/** Imaging queries: a study with every entry that references it; studies by patient; all studies. */
import { RadledgerError } from "../../core/errors.js";
import { fromUtf8 } from "../../core/bytes.js";
import type { LogReader, StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { studyRegistered, type StudyRegisteredBody } from "./entries.js";

export interface StudyDoc {
  readonly id: string;
  readonly index: number;
  readonly patient: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly seriesKeys: string[];
  readonly instanceCount: number;
  readonly manifestRoot: string;
  readonly source: string;
  readonly registeredBy: string;
}

/**
 * A study's record, read from its study.registered entry (the ledger keeps no copy of it as a
 * document). `id` is the entry's leaf hash; it comes from requests and other entries, so anything
 * else — another entry type, no entry, not a hash — is simply no study.
 */
export function getStudy(state: StateReader, id: string): StudyDoc | undefined {
  const stored = state.entryByLeafHash(id);
  if (stored?.type !== studyRegistered.type) return undefined;
  const entry = JSON.parse(fromUtf8(stored.bytes)) as { actor: string; body: StudyRegisteredBody };
  const b = entry.body;
  return {
    id,
    index: stored.index,
    patient: b.patient,
    modalities: b.modalities,
    ...(b.bodyPart === undefined ? {} : { bodyPart: b.bodyPart }),
    seriesKeys: b.series.map((s) => s.seriesKey),
    instanceCount: b.instanceCount,
    manifestRoot: b.manifestRoot,
    source: b.source.name,
    registeredBy: entry.actor,
  };
}

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
