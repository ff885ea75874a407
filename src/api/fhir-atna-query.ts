/**
 * The search parameters of Retrieve ATNA Audit Event [ITI-81] (IHE RESTful ATNA §3.81.4.1.2.1) this
 * node answers, read strictly (FHIR R4 §3.1.1.5.7 handling=strict: an unknown or unsupported
 * parameter is a 400, never silently ignored so that a too-wide answer is read as a narrow one):
 *
 *   date=[ge|gt|le|lt|eq]T   AuditEvent.recorded; T a date (YYYY-MM-DD) or an instant with offset;
 *                            repeatable (date=ge…&date=le… is a range)
 *   patient=P                the patient's pseudonym (pt_…, or Patient/pt_…): the node keeps no
 *                            Patient ID, so a `Patient?identifier=` form cannot be answered
 *   agent=A                  an actor id (or urn:radledger:actor|A): the accessing actor of a
 *                            decision, the reporting system or a participant's user id of a report
 *   entity-type=C            audit-entity-type code (1 person, 2 system object), system|code allowed
 *   outcome=O                0, 4, 8 or 12
 *   _count=N                 page size, default 50, at most 500
 *   _cursor=…                the opaque cursor of a `next` link
 */
import { RadledgerError } from "../core/errors.js";
import { formatTime } from "../core/entry.js";
import type { RadledgerNode } from "../app/node.js";
import type { FeedFilter, FeedSources } from "../domain/access/audit-feed.js";
import { indexSource } from "../domain/access/search.js";
import { entryTypeSource } from "./entry-rows.js";
import { isKnownPatient } from "../domain/patients.js";

export const DEFAULT_COUNT = 50;
export const MAX_COUNT = 500;
const KNOWN = ["date", "patient", "agent", "entity-type", "outcome", "_count", "_cursor", "_format"];
const PSEUDONYM = /^pt_[A-Za-z0-9_-]{43}$/;
const ACTOR = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

export interface SearchParams {
  readonly filter: FeedFilter;
  readonly count: number;
  readonly before?: number;
  /** The query string of this page (without the cursor) and of the page after `next`. */
  readonly selfQuery: string;
  nextQuery(next: number): string;
}

const invalid = (message: string, at: string): never => {
  throw new RadledgerError("INPUT_INVALID", message, { at: `query.${at}` });
};

function single(q: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) return invalid(`${name} may be given once`, name);
  return v;
}

/** A FHIR date or instant as the first and last millisecond it covers (R4 §3.1.1.4.2 implicit ranges). */
function dateRange(v: string): [string, string] {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (day) {
    const start = Date.UTC(+day[1]!, +day[2]! - 1, +day[3]!);
    if (Number.isNaN(start) || new Date(start).getUTCDate() !== +day[3]!) invalid("not a valid date", "date");
    return [formatTime(start), formatTime(start + 86_400_000 - 1)];
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(v))
    invalid("date is a date (YYYY-MM-DD) or an instant with a time zone", "date");
  const ms = Date.parse(v);
  if (Number.isNaN(ms) || ms < 0) invalid("not a valid instant", "date");
  return [formatTime(ms), formatTime(ms)];
}

function token(v: string, system: string | undefined, at: string): string {
  const bar = v.indexOf("|");
  if (bar < 0) return v;
  if (system !== undefined && v.slice(0, bar) !== "" && v.slice(0, bar) !== system)
    invalid(`unknown code system for ${at}`, at);
  return v.slice(bar + 1);
}

const encodeCursor = (seq: number): string => Buffer.from(`b${seq}`).toString("base64url");
function decodeCursor(v: string): number {
  const text = /^[A-Za-z0-9_-]{1,24}$/.test(v) ? Buffer.from(v, "base64url").toString("utf8") : "";
  const m = /^b(\d{1,15})$/.exec(text);
  return m ? Number(m[1]) : invalid("not a cursor this node gave", "_cursor");
}

export function searchParams(q: Record<string, string | string[] | undefined>): SearchParams {
  for (const name of Object.keys(q))
    if (!KNOWN.includes(name))
      invalid(`unknown or unsupported search parameter ${JSON.stringify(name.slice(0, 64))}`, name);
  const format = single(q, "_format");
  if (format !== undefined && !["json", "application/fhir+json", "application/json"].includes(format))
    invalid("only JSON is served", "_format");
  let from: string | undefined, to: string | undefined;
  const dates = q.date === undefined ? [] : [q.date].flat();
  if (dates.length > 2) invalid("at most two date parameters (a range)", "date");
  for (const d of dates) {
    const m = /^(ge|gt|le|lt|eq)?(.*)$/.exec(d)!;
    const [start, end] = dateRange(m[2]!);
    const after = (t: string) => (from = from === undefined || t > from ? t : from);
    const before = (t: string) => (to = to === undefined || t < to ? t : to);
    const prev = (t: string) => formatTime(Date.parse(t) - 1);
    const next = (t: string) => formatTime(Date.parse(t) + 1);
    switch (m[1] ?? "eq") {
      case "ge":
        after(start);
        break;
      case "gt":
        after(next(end));
        break;
      case "le":
        before(end);
        break;
      case "lt":
        before(prev(start));
        break;
      default:
        after(start);
        before(end);
    }
  }
  let patient = single(q, "patient");
  if (patient !== undefined) {
    patient = patient.startsWith("Patient/") ? patient.slice(8) : patient;
    if (!PSEUDONYM.test(patient)) invalid("patient is a pt_ pseudonym (or Patient/pt_…)", "patient");
  }
  const agentParam = single(q, "agent");
  const agent = agentParam === undefined ? undefined : token(agentParam, "urn:radledger:actor", "agent");
  if (agent !== undefined && !ACTOR.test(agent) && !PSEUDONYM.test(agent))
    invalid("agent is an actor id", "agent");
  const entityParam = single(q, "entity-type");
  const entityType =
    entityParam === undefined
      ? undefined
      : token(entityParam, "http://terminology.hl7.org/CodeSystem/audit-entity-type", "entity-type");
  if (entityType !== undefined && !/^[1-4]$/.test(entityType))
    invalid("entity-type is 1, 2, 3 or 4", "entity-type");
  const outcome = single(q, "outcome");
  if (outcome !== undefined && !["0", "4", "8", "12"].includes(outcome))
    invalid("outcome is 0, 4, 8 or 12", "outcome");
  const countParam = single(q, "_count");
  if (countParam !== undefined && !/^[0-9]{1,4}$/.test(countParam)) invalid("_count is a number", "_count");
  const count = Math.min(Math.max(1, Number(countParam ?? DEFAULT_COUNT)), MAX_COUNT);
  const cursor = single(q, "_cursor");
  const before = cursor === undefined ? undefined : decodeCursor(cursor);

  const filter: FeedFilter = {
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    ...(patient === undefined ? {} : { patient }),
    ...(agent === undefined ? {} : { agent }),
    ...(entityType === undefined ? {} : { entityType }),
    ...(outcome === undefined ? {} : { outcome: outcome as NonNullable<FeedFilter["outcome"]> }),
  };
  const base = new URLSearchParams();
  for (const d of dates) base.append("date", d);
  if (patient !== undefined) base.append("patient", patient);
  if (agentParam !== undefined) base.append("agent", agentParam);
  if (entityParam !== undefined) base.append("entity-type", entityParam);
  if (outcome !== undefined) base.append("outcome", outcome);
  base.append("_count", String(count));
  const withCursor = (seq: number | undefined): string => {
    const p = new URLSearchParams(base);
    if (seq !== undefined) p.append("_cursor", encodeCursor(seq));
    return p.toString();
  };
  return {
    filter,
    count,
    ...(before === undefined ? {} : { before }),
    selfQuery: withCursor(before),
    nextQuery: (next) => withCursor(next),
  };
}

/**
 * The rows to walk for a filter: the patient's two indexes, else the agent's (a decision's actor,
 * a report's signing system), else both entry types from the type index. A patient that nothing
 * on the log names is PATIENT_UNKNOWN — a mistyped pseudonym is not an empty audit trail.
 */
export function feedSource(node: RadledgerNode, f: FeedFilter): FeedSources {
  const state = node.store;
  if (f.patient !== undefined) {
    if (!isKnownPatient(state, f.patient))
      throw new RadledgerError("PATIENT_UNKNOWN", "no patient of that pseudonym on this log", {
        at: "query.patient",
      });
    return {
      decided: indexSource(state, "access.patient", f.patient),
      reported: indexSource(state, "access.reported.patient", f.patient),
    };
  }
  if (f.agent !== undefined) {
    // A report names its participants by the user ids of the reporting system: those are not
    // indexed, so an agent that is no enrolled actor is searched over every report (scan-bounded).
    const actorKnown = state.lookup("access.actor", f.agent, { limit: 1 }).length > 0;
    const systemKnown = state.lookup("access.reported.source", f.agent, { limit: 1 }).length > 0;
    if (actorKnown || systemKnown)
      return {
        decided: indexSource(state, "access.actor", f.agent),
        reported: indexSource(state, "access.reported.source", f.agent),
      };
  }
  return {
    decided: entryTypeSource(node, "access.recorded"),
    reported: entryTypeSource(node, "access.reported"),
  };
}
