/**
 * Roles an actor can hold. "institution" belongs to the log's own key alone (genesis, gatekeeper
 * records); everything else is granted by enrolment or role.granted entries. "integration" is a
 * system (a RIS or voice-recognition bridge, an integration engine) that enters content on behalf
 * of enrolled clinicians, each entry naming both (docs/security.md "Tokens and delegation").
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
  "integration",
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
