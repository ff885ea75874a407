/**
 * Roles an actor can hold. "institution" belongs to the log's own key alone (genesis, gatekeeper
 * records); everything else is granted by enrolment or role.granted entries.
 */
export const ROLES = [
  "institution",
  "admin",
  "radiologist",
  "clinician",
  "technologist",
  "auditor",
  "patient",
  "ai-system",
  "trial-coordinator",
  "sponsor",
  "curator",
  "annotator",
  "vendor",
  "researcher",
] as const;

export type Role = (typeof ROLES)[number];

export const GRANTABLE_ROLES = ROLES.filter((r) => r !== "institution");

export const CLINICAL_ROLES: readonly Role[] = ["radiologist", "clinician", "technologist"];
