/**
 * Break-glass (docs/families/access.md, "Break-glass"): the reason value set, the justification that
 * must come with it, and the role policy. HL7 gives the purpose (v3 ActReason ETREAT, emergency
 * treatment) and the security label for the override (BTG, "break the glass"), but no value set for
 * *why* the glass was broken, so radledger defines one here — the only place — and every edge (API,
 * DICOMweb header, CLI) and the append path use it.
 */
import { z } from "zod";
import { CLINICAL_ROLES, type Role } from "../identity/roles.js";
import { RadledgerError } from "../../core/errors.js";
import { defineValueSet } from "../value-sets.js";

/** Why the glass was broken. Each needs a free-text justification (to the vault). */
export const breakGlassReasons = defineValueSet("break-glass reason", [
  /** An immediate threat to the patient's life or limb. */
  "immediate-threat-to-life",
  /** The patient cannot consent (unconscious, sedated, incapacitated) and no representative is reachable. */
  "patient-unable-to-consent",
  /** Time-critical diagnosis or treatment (stroke, trauma, sepsis pathway) cannot wait for consent. */
  "urgent-clinical-need",
  /** Covering for the patient's assigned clinician, whose care relationship is not the actor's. */
  "covering-clinician",
  /** The actor treats the patient but the care relationship is not recorded yet. */
  "care-relationship-not-recorded",
  /** None of the above: the justification must say why. */
  "other",
]);
export type BreakGlassReason = (typeof breakGlassReasons.values)[number];

/** The free-text justification: required, kept in the vault; only its commitment is on the log. */
export const BREAK_GLASS_JUSTIFICATION_MAX = 2000;
export const breakGlassJustification = z
  .string()
  .max(BREAK_GLASS_JUSTIFICATION_MAX)
  .refine((s) => s.trim().length >= 10, "a justification of at least 10 characters is required");

/** Roles a break-glass policy may name: clinical staff only. */
export const BREAK_GLASS_ELIGIBLE_ROLES: readonly Role[] = CLINICAL_ROLES;
/** The default policy: radiologists and clinicians; technologists and others ask a clinician. */
export const DEFAULT_BREAK_GLASS_ROLES: readonly Role[] = ["radiologist", "clinician"];

/**
 * Validates a configured break-glass role list (config.json `breakGlassRoles`): a non-empty list,
 * without repeats, of clinical roles. Throws CONFIG_INVALID naming the problem.
 */
export function parseBreakGlassRoles(value: unknown): readonly Role[] {
  const bad = (why: string): never => {
    throw new RadledgerError("CONFIG_INVALID", `breakGlassRoles: ${why}`, { at: "breakGlassRoles" });
  };
  if (!Array.isArray(value) || value.length === 0) return bad("must be a non-empty list of roles");
  const seen = new Set<string>();
  for (const r of value as unknown[]) {
    if (typeof r !== "string" || !(BREAK_GLASS_ELIGIBLE_ROLES as readonly string[]).includes(r))
      return bad(`${JSON.stringify(r)} is not one of ${BREAK_GLASS_ELIGIBLE_ROLES.join(", ")}`);
    if (seen.has(r)) return bad(`${r} is listed twice`);
    seen.add(r);
  }
  return value as Role[];
}
