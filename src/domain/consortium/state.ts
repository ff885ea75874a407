/**
 * Consortium projection (docs/families/consortium.md): documents `patient.link/<id>` (one per
 * pseudonym link); indexes `patient.links` (local pseudonym → link ids) and `patient.linked.from`
 * (`"<origin> <pseudonym>"` → the local pseudonym), which a peer's queries read to confirm a link.
 */
import type { StateReader } from "../../ports/storage.js";

export interface PseudonymLinkDoc {
  readonly id: string;
  readonly index: number;
  /** The patient's pseudonym in this log. */
  readonly patient: string;
  /** The other institution's log origin and the patient's pseudonym there. */
  readonly origin: string;
  readonly pseudonym: string;
  readonly linkedBy: string;
  readonly linkedAt: string;
}

/** The patient's pseudonym links recorded in this log, in log order. */
export function linksOf(state: StateReader, patient: string): PseudonymLinkDoc[] {
  return state
    .lookup("patient.links", patient)
    .map((r) => state.getDoc("patient.link", r.value) as unknown as PseudonymLinkDoc);
}
