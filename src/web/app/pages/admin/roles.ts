/**
 * The roles an admin can grant (the domain's GRANTABLE_ROLES, src/domain/identity/roles.ts; the web
 * app runs on the pure core only, so the list is repeated here and roles.test.ts keeps them equal).
 */
export const GRANTABLE_ROLES = [
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
