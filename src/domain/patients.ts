/**
 * Whether this node knows a patient pseudonym at all. A pseudonym is a keyed hash (docs/design.md
 * §5.1): a mistyped one is just as well-formed as a real one, so a query about it would answer an
 * empty list — which an auditor reads as "nobody looked at this record". Queries about one patient
 * therefore first ask this and answer PATIENT_UNKNOWN ("no such patient") when nothing names it.
 *
 * Known means some projection of this log names the pseudonym: an enrolled patient actor, a study,
 * a report (through its study), a consent grant, a care relationship, an access record (denied
 * attempts included), a recorded erasure, or a consortium pseudonym link. Each is one index probe.
 */
import { RadledgerError } from "../core/errors.js";
import type { StateReader } from "../ports/storage.js";

/** The per-patient indexes of the record families, keyed by the pseudonym. */
const PATIENT_INDEXES = [
  "actor.patient",
  "study.patient",
  "consent.patient",
  "care.patient",
  "access.patient",
  "patient.links",
] as const;

export function isKnownPatient(state: StateReader, patient: string): boolean {
  for (const name of PATIENT_INDEXES) if (state.lookup(name, patient, { limit: 1 }).length > 0) return true;
  return state.getDoc("erasure", patient) !== undefined;
}

/** PATIENT_UNKNOWN (not found) unless the pseudonym is known to this log. */
export function requireKnownPatient(state: StateReader, patient: string): void {
  if (!isKnownPatient(state, patient))
    throw new RadledgerError(
      "PATIENT_UNKNOWN",
      "no such patient: this node has no record naming that pseudonym (check it for a typo)",
      { at: "patient" },
    );
}
