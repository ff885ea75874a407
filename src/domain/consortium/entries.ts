/**
 * Consortium family: the one entry that joins a patient's records across institutions.
 *
 * Pseudonyms are unlinkable across institutions by design (docs/design.md §5.1: HMAC under each
 * institution's secret). A patient who wants one view of who accessed their imaging anywhere in the
 * consortium links their pseudonyms themselves: in each institution's log, with the patient key
 * enrolled there, they sign `patient.pseudonym.linked` naming their pseudonym at the other
 * institution. Consortium queries join two histories only when both logs carry the matching
 * statement (each direction signed by the patient at that institution), so neither an institution
 * nor someone holding one patient key can attach another person's history. The link puts no PHI on
 * the ledger: two pseudonyms and an origin. Unlinking is not modelled yet (docs/consortium.md).
 */
import { z } from "zod";
import { isValidKeyName } from "../../core/note.js";
import { defineEntryType } from "../ledger/entry-types.js";
import { pseudonym } from "../schemas.js";
import type { PseudonymLinkDoc } from "./state.js";

const logOrigin = z
  .string()
  .min(1)
  .max(255)
  .refine(isValidKeyName, "expected a log origin (no spaces or '+')");

export const pseudonymLinked = defineEntryType({
  type: "patient.pseudonym.linked",
  summary:
    "A patient, with their own key, states that a pseudonym at another institution of the consortium is theirs too.",
  body: z.strictObject({ patient: pseudonym, origin: logOrigin, pseudonym }),
  refs: {},
  signers: ["patient"],
  apply(ctx) {
    const b = ctx.body;
    if (ctx.actor.kind !== "patient" || ctx.actor.patient !== b.patient)
      ctx.reject("PSEUDONYM_LINK_INVALID", "only the patient links their own pseudonym", {
        at: "body.patient",
      });
    if (b.origin === ctx.origin)
      ctx.reject("PSEUDONYM_LINK_INVALID", "a link names another institution's log", { at: "body.origin" });
    const key = `${b.origin} ${b.pseudonym}`;
    if (ctx.state.lookup("patient.linked.from", key).some((r) => r.value === b.patient))
      ctx.reject("PSEUDONYM_LINK_EXISTS", "the patient already linked that pseudonym", {
        at: "body.pseudonym",
      });
    const doc: PseudonymLinkDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      patient: b.patient,
      origin: b.origin,
      pseudonym: b.pseudonym,
      linkedBy: ctx.entry.actor,
      linkedAt: ctx.entry.time,
    };
    ctx.state.putDoc("patient.link", ctx.leafHash, { ...doc });
    ctx.state.addIndex("patient.links", b.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("patient.linked.from", key, ctx.index, b.patient);
  },
});

export const consortiumEntryTypes = [pseudonymLinked];
