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
import {
  defineRoute,
  hasRole,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  recordRequestAudit,
  type Api,
} from "../route.js";
import { RECORD_READERS } from "../roles.js";
import { json, listRoutes, recordRoutes } from "./shared.js";
import { entryTypeSource } from "../entry-rows.js";
import { indexSource, searchAccesses, type RowSource } from "../../domain/access/search.js";
import { searchHistory, type HistoryFilter } from "../../domain/access/history.js";
import type { StateReader } from "../../ports/storage.js";
import { requireKnownPatient } from "../../domain/patients.js";

/**
 * The filters of access lists (a patient's history, an actor's accesses, the auditor's search):
 * `from` (inclusive) and `to` (exclusive) times, the accessing `actor`, the `part` kind, the
 * `purpose` of use, the `decision` (the outcome: permit or deny) and the permit's `basis`.
 */
export const accessFilterQuery = {
  from: timestamp.optional(),
  to: timestamp.optional(),
  actor: actorId.optional(),
  part: z.enum(["record", "study", "series", "instance", "report", "report-section", "dataset"]).optional(),
  purpose: purposeOfUse.optional(),
  decision: z.enum(["permit", "deny"]).optional(),
  basis: z.enum(["patient", "consent", "care", "role", "break-glass"]).optional(),
};

/**
 * The filters of the merged access history (a patient's, the auditor's search: decided and
 * reported accesses, src/domain/access/history.ts): besides accessFilterQuery, the `origin`
 * (decided by this node or reported by another system) and `excludeActor` (leave out one actor's
 * accesses: the patient's own views, which are recorded too).
 */
export const historyFilterQuery = {
  ...accessFilterQuery,
  origin: z.enum(["decided", "reported"]).optional(),
  excludeActor: actorId.optional(),
};

/**
 * A page of a patient's access history (GET /api/v1/patients/:patient/access), filtered when the
 * query names filters (accessFilterQuery).
 */
export function patientAccessPage(
  state: StateReader,
  patient: string,
  page: { after?: number; limit?: number },
  q: Readonly<Record<string, string | undefined>>,
): { items: unknown[]; next?: number } {
  const oldestFirst = q.order === "oldest";
  // Decided and reported accesses, merged in log order (src/domain/access/history.ts).
  return searchHistory(
    state,
    {
      decided: indexSource(state, "access.patient", patient, oldestFirst),
      reported: indexSource(state, "access.reported.patient", patient, oldestFirst),
      oldestFirst,
    },
    accessFilterOf(q),
    page,
  );
}

const FILTER_KEYS = [...Object.keys(historyFilterQuery), "patient"];

/** The filter a validated query names (its filter parameters and `patient`); `from` must lie before `to`. */
export function accessFilterOf(q: Readonly<Record<string, string | undefined>>): HistoryFilter {
  if (q.from !== undefined && q.to !== undefined && q.from >= q.to)
    throw new RadledgerError("INPUT_INVALID", "query.to: must be later than from", { at: "query.to" });
  const f: Record<string, string> = {};
  for (const k of FILTER_KEYS) if (q[k] !== undefined) f[k] = q[k];
  return f;
}

const GRANT_ROUTE = { method: "GET", url: "/api/v1/grants/:id" } as const;
const GRANTEE_ROUTE = { method: "GET", url: "/api/v1/grantees/:kind/:id/grants" } as const;
const DECIDE_ROUTE = { method: "POST", url: "/api/v1/consent/decide" } as const;
const ACCESS_ROUTE = { method: "GET", url: "/api/v1/access/:id" } as const;
const ACTOR_ACCESS_ROUTE = { method: "GET", url: "/api/v1/actors/:id/access" } as const;

export function registerConsentAccessQueries(app: FastifyInstance, api: Api): void {
  const state = api.node.store;
  const list = listRoutes(app, api);
  const record = recordRoutes(app, api);

  // --- consent -------------------------------------------------------------------------------
  record({
    url: GRANT_ROUTE.url,
    tag: "consent",
    summary: "One consent grant: its patient, the grantee, admins and auditors.",
    auth: "any",
    what: "the grant",
    async read(id, caller) {
      const grant = requireGrant(state, id);
      const grantee = grant.grantee.kind === "actor" && grant.grantee.id === caller!.actor.id;
      // The grantee reads a grant to themself: one query event; anyone else a recorded access.
      if (!grantee) await requirePatientScope(api, caller!, grant.patient, RECORD_READERS);
      else
        await recordRequestAudit(api, caller!, "query", GRANT_ROUTE, {
          roles: "any",
          patient: grant.patient,
        });
      return grant;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: GRANTEE_ROUTE.url,
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
      await recordRequestAudit(api, caller!, "query", GRANTEE_ROUTE, { roles: RECORD_READERS });
      return { items: grantsToGrantee(state, params.kind, params.id) };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: DECIDE_ROUTE.url,
    tag: "consent",
    summary:
      "The consent decision for a hypothetical access (nothing is served; the question is recorded as a query event naming the patient): admins and auditors for anyone, an actor for themself, a patient about their own record.",
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
      // A decision about a patient's record is about the patient: one query event, before it.
      await recordRequestAudit(api, caller!, "query", DECIDE_ROUTE, {
        roles: "any",
        patient: body.patient,
      });
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
    audit: "audit-log-used",
    tag: "access",
    summary:
      "Break-glass permits awaiting review, oldest first (auditors; close one with POST /api/v1/entries/access.reviewed).",
    auth: ["auditor"],
    run: (_p, o) => {
      const page = breakGlassQueue(state, o);
      return { ...page, items: withJustifications(api, page.items) };
    },
  });

  record({
    url: ACCESS_ROUTE.url,
    tag: "access",
    summary: "One access record: auditors, admins, its patient and its accessing actor.",
    auth: "any",
    what: "the access record",
    async read(id, caller) {
      const access = requireAccess(state, id);
      if (access.actor !== caller!.actor.id)
        await requirePatientScope(api, caller!, access.patient, RECORD_READERS, { record: "audit" });
      await recordRequestAudit(api, caller!, "audit-log-used", ACCESS_ROUTE, {
        roles: "any",
        patient: access.patient,
      });
      return access;
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: ACTOR_ACCESS_ROUTE.url,
    tag: "access",
    summary:
      "Every access decision about one actor, newest first unless order=oldest: auditors, admins, the actor.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    query: z.strictObject({
      ...pageQuery.shape,
      order: z.enum(["newest", "oldest"]).optional(),
      ...accessFilterQuery,
      patient: pseudonym.optional(),
    }),
    response: { description: "a page", schema: pageSchema() },
    errors: ["FORBIDDEN_ROLE", "PATIENT_UNKNOWN"],
    async handler({ params, query, caller }) {
      if (params.id !== caller!.actor.id && !hasRole(caller!, RECORD_READERS))
        throw new RadledgerError("FORBIDDEN_ROLE", "another actor's accesses are for admins and auditors");
      await recordRequestAudit(api, caller!, "audit-log-used", ACTOR_ACCESS_ROUTE, {
        roles: params.id === caller!.actor.id ? "any" : RECORD_READERS,
        ...(query.patient === undefined ? {} : { patient: query.patient }),
      });
      const { order, after: _a, limit: _l, ...rest } = query;
      if (rest.actor !== undefined)
        throw new RadledgerError("INPUT_INVALID", "query.actor: the actor is the path's", {
          at: "query.actor",
        });
      const filter = { ...accessFilterOf(rest), actor: params.id };
      // A mistyped pseudonym is "no such patient", not an empty list read as "nobody looked" (issue 20).
      if (filter.patient !== undefined) requireKnownPatient(state, filter.patient);
      const oldestFirst = order === "oldest";
      if (Object.keys(filter).length === 1)
        return pageOut(accessesByActor(state, params.id, { ...pageOptions(query), oldestFirst }));
      return pageOut(
        searchAccesses(
          state,
          indexSource(state, "access.actor", params.id, oldestFirst),
          filter,
          pageOptions(query),
        ),
      );
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/access",
    audit: "audit-log-used",
    tag: "access",
    summary:
      "The auditor's access search, newest first: the accesses this node decided and those other hospital systems reported (IHE ATNA), each with its `origin`; by patient and/or actor (a decided access's actor, a reported one's participant user id or reporting system), time range (from inclusive, to exclusive), part kind, purpose, decision (a report's outcome: success ↔ permit), basis, origin, excludeActor. Without patient or actor, over every access. A page examines at most 10,000 records: it may be short, even empty, and still carry `next` (docs/api.md).",
    auth: RECORD_READERS,
    query: z.strictObject({ ...pageQuery.shape, ...historyFilterQuery, patient: pseudonym.optional() }),
    response: { description: "a page", schema: pageSchema() },
    errors: ["PATIENT_UNKNOWN"],
    async handler({ query }) {
      const { after: _a, limit: _l, ...rest } = query;
      const filter = accessFilterOf(rest);
      // A mistyped pseudonym is "no such patient", not an empty list read as "nobody looked" (issue 20).
      if (filter.patient !== undefined) requireKnownPatient(state, filter.patient);
      let decided: RowSource;
      let reported: RowSource;
      if (filter.patient !== undefined) {
        decided = indexSource(state, "access.patient", filter.patient);
        reported = indexSource(state, "access.reported.patient", filter.patient);
      } else {
        decided =
          filter.actor !== undefined
            ? indexSource(state, "access.actor", filter.actor)
            : entryTypeSource(api.node, "access.recorded");
        // A participant's user id has no index: reports are examined within the page's budget.
        reported = entryTypeSource(api.node, "access.reported");
      }
      return pageOut(searchHistory(state, { decided, reported }, filter, pageOptions(query)));
    },
  });
}

/**
 * Break-glass accesses with their justifications read from the vault, for the auditor who reviews
 * them: `justification` (the free text behind `basis.reasonCommitment`), or `justificationStatus`
 * "unavailable" when the patient's vault content was erased, "not-recorded" for entries written
 * before a justification was required. One vault read for the page (Vault.getMany: each patient's
 * key unwrapped once), not one per item.
 */
function withJustifications(
  api: Api,
  items: readonly AccessView[],
): (AccessView & Record<string, unknown>)[] {
  const commitments = items.flatMap((a) => (a.basis?.reasonCommitment ? [a.basis.reasonCommitment] : []));
  const found = api.node.vault.getMany(commitments);
  return items.map((a) => {
    const commitment = a.basis?.reasonCommitment;
    if (commitment === undefined) return { ...a, justificationStatus: "not-recorded" };
    const content = found.get(commitment)?.content;
    const text = typeof content === "object" && !Array.isArray(content) ? content.justification : undefined;
    return typeof text === "string"
      ? { ...a, justification: text }
      : { ...a, justificationStatus: "unavailable" };
  });
}
