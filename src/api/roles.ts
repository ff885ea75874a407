/** Who reads what, by role (docs/api.md §Endpoints); shared by the query, bundle and consortium routes. */
import type { TrialScope } from "../domain/trials/queries.js";
import { CLINICAL } from "./patient-access.js";
import type { Caller } from "./route.js";

export const STAFF_READERS = [...CLINICAL, "admin", "auditor"];
export const RECORD_READERS = ["admin", "auditor"];
export const RECALL_READERS = ["admin", "auditor", "radiologist", "clinician"];
export const TRIAL_READERS = [
  "trial-coordinator",
  "sponsor",
  "radiologist",
  "technologist",
  "admin",
  "auditor",
];
/**
 * The trials a caller reads: every trial for the site's own trial roles; for an actor whose only
 * trial role is sponsor, its organisation's trials (the organisation is on its actor.enrolled entry,
 * set by the admin who enrolled it — never by the caller). A sponsor's actor without one sees none.
 */
export function trialScope(caller: Caller): TrialScope {
  const roles = caller.actor.roles;
  if (roles.some((r) => r !== "sponsor" && TRIAL_READERS.includes(r))) return undefined;
  const organisation = caller.actor.organisation;
  return { sponsor: typeof organisation === "string" ? organisation : "" };
}
export const DATASET_READERS = ["curator", "annotator", "researcher", "vendor", "admin", "auditor"];
/**
 * Who reads the log's entries whole (/tile/entries/…, /api/v1/log/entries/:ref; docs/privacy.md):
 * the roles that already see every record, because the entries name every patient's pseudonym,
 * access history, grants and studies. Clinical roles read a patient's record through the gatekeeper,
 * which records each access; consortium peers read entries with signed requests (entry-access.ts).
 */
export const ENTRY_READERS = RECORD_READERS;
