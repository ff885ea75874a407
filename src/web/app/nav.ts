/**
 * Where each person works (docs/web.md "Pages"): the areas of the app, the roles each is for, and
 * the first one a person lands on after sign-in. The node enforces the same rules on every API call;
 * this only decides what the menu shows.
 */
import type { Actor } from "./session.js";

export interface Area {
  readonly href: string;
  readonly label: string;
  /** Roles that use this area; "patient" also matches actors of kind patient; [] is everyone. */
  readonly roles: readonly string[];
}

export const CLINICAL_ROLES = ["radiologist", "clinician", "technologist"] as const;
export const AUDIT_ROLES = ["auditor", "admin"] as const;
export const TRIAL_ROLES = [
  "trial-coordinator",
  "sponsor",
  "radiologist",
  "technologist",
  "admin",
  "auditor",
] as const;
export const DATASET_ROLES = ["curator", "annotator", "researcher", "vendor", "admin", "auditor"] as const;

export const AREAS: readonly Area[] = [
  { href: "/patient", label: "My record", roles: ["patient"] },
  { href: "/reading", label: "Worklist", roles: CLINICAL_ROLES },
  { href: "/audit", label: "Audit", roles: AUDIT_ROLES },
  { href: "/trials", label: "Trials", roles: TRIAL_ROLES },
  { href: "/datasets", label: "Datasets", roles: DATASET_ROLES },
  { href: "/admin", label: "Admin", roles: ["admin"] },
  { href: "/explorer", label: "Log explorer", roles: [] },
  { href: "/verify", label: "Verify", roles: [] },
];

export function canUse(actor: Actor | undefined, area: Area): boolean {
  if (area.roles.length === 0) return true;
  if (!actor) return false;
  if (area.roles.includes("patient") && actor.kind === "patient") return true;
  return area.roles.some((r) => actor.roles.includes(r));
}

/** The areas in this person's menu. */
export function areasFor(actor: Actor | undefined): Area[] {
  return AREAS.filter((a) => canUse(actor, a));
}

/** Where a person lands after sign-in: an admin in Admin, others their first own area. */
export function homeOf(actor: Actor): string {
  if (actor.roles.includes("admin")) return "/admin";
  return areasFor(actor).find((a) => a.roles.length > 0)?.href ?? "/explorer";
}
