/**
 * Consent (grants, care relationships, the decision function) and the access record (histories, the
 * break-glass queue). Each endpoint answers one query of src/domain/<family>/queries.ts; lists page
 * with cursors (./shared.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../../core/errors.js";
import { formatTime } from "../../core/entry.js";
import { accessesByActor, breakGlassQueue, requireAccess } from "../../domain/access/queries.js";
import { decide, grantsToGrantee, requireGrant } from "../../domain/consent/queries.js";
import { accessContext, part, purposeOfUse } from "../../domain/consent/entries.js";
import { actorId, pseudonym, timestamp } from "../../domain/schemas.js";
import { breakGlassReasons } from "../../domain/access/break-glass.js";
import type { AccessView } from "../../domain/access/queries.js";
import { isOwnPatient, requirePatientScope } from "../patient-access.js";
import { defineRoute, hasRole, pageOptions, pageOut, pageQuery, pageSchema, type Api } from "../route.js";
import { RECORD_READERS } from "../roles.js";
import { json, listRoutes, recordRoutes } from "./shared.js";

export function registerConsentAccessQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- consent -------------------------------------------------------------------------------
  record({
    url: "/api/v1/grants/:id",
    tag: "consent",
    summary: "One consent grant: its patient, the grantee, admins and auditors.",
    auth: "any",
    what: "the grant",
    async read(id, caller) {
      const grant = requireGrant(state, id);
      const grantee = grant.grantee.kind === "actor" && grant.grantee.id === caller!.actor.id;
      if (!grantee) await requirePatientScope(api, caller!, grant.patient, RECORD_READERS);
      return grant;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/grantees/:kind/:id/grants",
    tag: "consent",
    summary:
      "Grants to one grantee (actor, institution, trial, dataset), in log order: admins and auditors, or an actor for grants to themself.",
    auth: "any",
    params: z.strictObject({
      kind: z.enum(["actor", "institution", "trial", "dataset"]),
      id: z.string().regex(/^[!-*,-~]{1,255}$/, "expected a grantee id"),
    }),
    response: { description: "grants", schema: z.object({ items: z.array(json) }) },
    async handler({ params, caller }) {
      const self = params.kind === "actor" && params.id === caller!.actor.id;
      if (!self && !hasRole(caller!, RECORD_READERS))
        throw new RadledgerError("FORBIDDEN_ROLE", "grants to others are for admins and auditors");
      return { items: grantsToGrantee(state, params.kind, params.id) };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/consent/decide",
    tag: "consent",
    summary:
      "The consent decision for a hypothetical access (nothing is served and nothing recorded): admins and auditors for anyone, an actor for themself, a patient about their own record.",
    auth: "any",
    body: z.strictObject({
      actor: actorId.optional(),
      patient: pseudonym,
      part,
      purpose: purposeOfUse,
      time: timestamp.optional(),
      breakGlass: z.strictObject({ reason: breakGlassReasons.schema }).optional(),
      context: accessContext.optional(),
    }),
    response: { description: "the decision", schema: json },
    async handler({ body, caller }) {
      const actor = body.actor ?? caller!.actor.id;
      const allowed =
        actor === caller!.actor.id || hasRole(caller!, RECORD_READERS) || isOwnPatient(caller!, body.patient);
      if (!allowed)
        throw new RadledgerError("FORBIDDEN_ROLE", "only admins and auditors ask about other actors' access");
      return decide(
        state,
        {
          actor,
          patient: body.patient,
          part: body.part,
          purpose: body.purpose,
          time: body.time ?? formatTime(api.node.clock.now()),
          ...(body.breakGlass ? { breakGlass: body.breakGlass } : {}),
          ...(body.context ? { context: body.context } : {}),
        },
        api.node.policy,
      );
    },
  });

  // --- access --------------------------------------------------------------------------------
  list({
    url: "/api/v1/access/break-glass",
    tag: "access",
    summary:
      "Break-glass permits awaiting review, oldest first (auditors; close one with POST /api/v1/entries/access.reviewed).",
    auth: ["auditor"],
    run: (_p, o) => {
      const page = breakGlassQueue(state, o);
      return { ...page, items: page.items.map((a) => withJustification(api, a)) };
    },
  });

  record({
    url: "/api/v1/access/:id",
    tag: "access",
    summary: "One access record: auditors, admins, its patient and its accessing actor.",
    auth: "any",
    what: "the access record",
    async read(id, caller) {
      const access = requireAccess(state, id);
      if (access.actor !== caller!.actor.id)
        await requirePatientScope(api, caller!, access.patient, RECORD_READERS);
      return access;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/actors/:id/access",
    tag: "access",
    summary:
      "Every access decision about one actor, newest first unless order=oldest: auditors, admins, the actor.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    query: z.strictObject({ ...pageQuery.shape, order: z.enum(["newest", "oldest"]).optional() }),
    response: { description: "a page", schema: pageSchema() },
    async handler({ params, query, caller }) {
      if (params.id !== caller!.actor.id && !hasRole(caller!, RECORD_READERS))
        throw new RadledgerError("FORBIDDEN_ROLE", "another actor's accesses are for admins and auditors");
      return pageOut(
        accessesByActor(state, params.id, { ...pageOptions(query), oldestFirst: query.order === "oldest" }),
      );
    },
  });
}

/**
 * A break-glass access with its justification read from the vault, for the auditor who reviews it:
 * `justification` (the free text behind `basis.reasonCommitment`), or `justificationStatus`
 * "unavailable" when the patient's vault content was erased, "not-recorded" for entries written
 * before a justification was required.
 */
function withJustification(api: Api, a: AccessView): AccessView & Record<string, unknown> {
  const commitment = a.basis?.reasonCommitment;
  if (commitment === undefined) return { ...a, justificationStatus: "not-recorded" };
  const content = api.node.vault.get(commitment)?.content;
  const text = typeof content === "object" && !Array.isArray(content) ? content.justification : undefined;
  return typeof text === "string"
    ? { ...a, justification: text }
    : { ...a, justificationStatus: "unavailable" };
}
