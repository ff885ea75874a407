/**
 * Imaging projection (docs/families/imaging.md): no documents — a study's record is its
 * study.registered entry, read back by getStudy — and the indexes `study.key` (study key → id),
 * `study.patient` (patient → ids) and `study.all`.
 */
import { fromUtf8 } from "../../core/bytes.js";
import type { StateReader } from "../../ports/storage.js";
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
