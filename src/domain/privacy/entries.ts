/**
 * Privacy family: erasure is recorded on the log (who erased which pseudonymous patient's
 * off-ledger data, when, why) while the data itself — the patient's vault key, salts and content — is
 * destroyed off-ledger (docs/design.md §5.4, crypto-shredding). The log keeps verifying: it never held the
 * content, only commitments that can no longer be opened.
 */
import { z } from "zod";
import { defineEntryType } from "../ledger/entry-types.js";
import { pseudonym } from "../schemas.js";
import { defineValueSet, requireMember } from "../value-sets.js";

/** Why a patient's off-ledger data is erased (docs/families/privacy.md). */
export const erasureReasons = defineValueSet("erasure reason", [
  /** The patient asked for erasure (GDPR art. 17). */
  "patient-request",
  /** The patient withdrew the consent the data was kept under. */
  "consent-withdrawn",
  /** The retention period ended. */
  "retention-expired",
  /** A court or supervisory authority ordered it. */
  "legal-order",
  /** The data was stored for the wrong patient or in error. */
  "entered-in-error",
  "other",
]);

export const patientDataErased = defineEntryType({
  type: "patient.data.erased",
  summary: "Records that a patient's off-ledger data (vault key, salts, content) was erased.",
  body: z.strictObject({ patient: pseudonym, reason: erasureReasons.body }),
  refs: {},
  signers: ["institution", "admin"],
  apply(ctx) {
    requireMember(ctx, erasureReasons, ctx.body.reason, "body.reason");
    if (ctx.state.getDoc("erasure", ctx.body.patient))
      ctx.reject("PATIENT_ALREADY_ERASED", "this patient's data is already erased");
    ctx.state.putDoc("erasure", ctx.body.patient, {
      id: ctx.leafHash,
      index: ctx.index,
      by: ctx.entry.actor,
      at: ctx.entry.time,
      reason: ctx.body.reason,
    });
    ctx.state.addIndex("erasure.all", "", ctx.index, ctx.body.patient);
  },
});

export const privacyEntryTypes = [patientDataErased];
