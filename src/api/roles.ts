/** Who reads what, by role (docs/api.md §Endpoints); shared by the query, bundle and consortium routes. */
import { CLINICAL } from "./patient-access.js";

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
export const DATASET_READERS = ["curator", "annotator", "researcher", "vendor", "admin", "auditor"];
