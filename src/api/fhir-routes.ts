/**
 * FHIR R4 export over HTTP (issue 5 §6): `GET /api/v1/fhir?patient=P | report=R | since=T` answers a
 * Bundle (collection), `GET /api/v1/fhir/{type}/{id}` one resource, as application/fhir+json.
 * Auditors and administrators may export anything (the audit trail and consents of every patient
 * are in it); a patient exports their own record only, `?patient=` their own pseudonym (issue 20: a
 * patient downloads their FHIR export), and any other patient's is refused and recorded as an
 * access.recorded deny like every refusal about a patient (src/api/patient-access.ts). The caller
 * authenticates with a bearer token or the web app's session cookie (route.ts bearerActor).
 */
import type { FastifyInstance } from "fastify";
import type { FhirResource } from "fhir/r4.js";
import { RadledgerError } from "../core/errors.js";
import { formatTime } from "../core/entry.js";
import type { RadledgerNode } from "../app/node.js";
import { fhirExport, type FhirScope } from "../domain/fhir/export.js";
import { activeActor, getGrant } from "../domain/consent/state.js";
import { getActor } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { AccessDoc } from "../domain/access/state.js";
import type { ModelDoc } from "../domain/ai/state.js";
import type { ReportDoc } from "../domain/reports/state.js";
import {
  auditEventOf,
  consentOf,
  deviceOf,
  diagnosticReportOf,
  inferenceProvenance,
  type InferenceView,
} from "../domain/fhir/resources.js";
import type { DicomwebAuthenticator } from "./dicomweb.js";
import { rejectUnknownQuery } from "./route.js";
import type { Gatekeeper } from "../app/gatekeeper.js";
import { registerFhirConsentRoutes } from "./fhir-consent-routes.js";

export interface FhirRouteOptions {
  readonly authenticate: DicomwebAuthenticator;
  /** Records a refused export of a patient's record (the gatekeeper's recordDenial). */
  readonly recordDenial: Gatekeeper["recordDenial"];
  /** Records the node's own audit events (110106 Export, 110101 Audit Log Used) before answering. */
  readonly recordAudit: Gatekeeper["recordAudit"];
}

const ENTRY_ID = /^[0-9a-f]{64}$/;
const PSEUDONYM = /^pt_[A-Za-z0-9_-]{43}$/;
const READER_ROLES = ["auditor", "admin", "institution"];
const TYPES = new Set(["Device", "Provenance", "AuditEvent", "Consent", "DiagnosticReport"]);

export function registerFhirRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  options: FhirRouteOptions,
): void {
  const authenticated = async (
    req: Parameters<DicomwebAuthenticator>[0],
    reply: Parameters<DicomwebAuthenticator>[1],
  ): Promise<ActorDoc | undefined> => {
    const who = await options.authenticate(req, reply);
    if (who === undefined) throw new RadledgerError("AUTH_REQUIRED", "the FHIR export needs credentials");
    return activeActor(node.store, who.actor);
  };
  registerFhirConsentRoutes(app, node, {
    caller: (req, reply) => authenticated(req, reply),
    recordDenial: options.recordDenial,
  });
  const isReader = (actor: ActorDoc | undefined): boolean =>
    actor !== undefined && actor.roles.some((r) => READER_ROLES.includes(r));
  const denied = () =>
    new RadledgerError("ACCESS_DENIED", "the FHIR export is for auditors and administrators");
  /**
   * Auditors and admins export any scope; a patient only `?patient=` their own pseudonym. A patient
   * asking for another patient's record is refused after the refusal is on the log (the other
   * patient's access history shows the attempt); a patient's report= or since= export is refused
   * before anything is read, naming no patient.
   */
  const authorizeExport = async (actor: ActorDoc | undefined, scope: FhirScope): Promise<void> => {
    if (isReader(actor)) return;
    if (actor?.kind !== "patient") throw denied();
    const own = typeof actor.patient === "string" ? actor.patient : undefined;
    if ("patient" in scope) {
      if (scope.patient === own) return;
      const denial = await options.recordDenial({
        actor: actor.id,
        patient: scope.patient,
        part: { kind: "record" },
        action: "export",
        purpose: "PATRQT",
        reason: "not-own-record",
      });
      throw new RadledgerError("FORBIDDEN_NOT_OWN_RECORD", "a patient exports only their own record", {
        reason: "not-own-record",
        access: denial.id,
      });
    }
    throw new RadledgerError(
      "FORBIDDEN_NOT_OWN_RECORD",
      "a patient exports their own record with ?patient=<their pseudonym> only",
    );
  };
  const scopeOf = (q: Record<string, string | undefined>): FhirScope => {
    rejectUnknownQuery(q, ["patient", "report", "since"]);
    const given = (["patient", "report", "since"] as const).filter((k) => q[k] !== undefined);
    if (given.length !== 1)
      throw new RadledgerError("INPUT_INVALID", "give exactly one of patient, report or since", {
        at: "query",
      });
    if (q.patient !== undefined) {
      if (!PSEUDONYM.test(q.patient))
        throw new RadledgerError("INPUT_INVALID", "patient must be a pt_ pseudonym", { at: "patient" });
      return { patient: q.patient };
    }
    if (q.report !== undefined) {
      if (!ENTRY_ID.test(q.report))
        throw new RadledgerError("INPUT_INVALID", "report must be an entry id", { at: "report" });
      return { report: q.report };
    }
    return { since: q.since! };
  };
  /**
   * Every FHIR export is recorded before it is answered (docs/audit.md "What is recorded when"): one
   * 110106 Export event, and — when what leaves holds AuditEvents (every Bundle does, and
   * AuditEvent/{id}) — one 110101 Audit Log Used event. No query values but the patient and the
   * record id.
   */
  const recordExport = async (
    actor: ActorDoc,
    route: string,
    object: { kind: string; id?: string },
    patient: string | undefined,
    auditTrail: boolean,
  ): Promise<void> => {
    const role = actor.kind === "patient" ? "patient" : actor.roles.find((r) => READER_ROLES.includes(r));
    const common = {
      outcome: "success" as const,
      actor: actor.id,
      purpose: actor.kind === "patient" ? ("PATRQT" as const) : ("HOPERAT" as const),
      ...(role === undefined ? {} : { role }),
      query: `GET ${route}`,
      ...(patient === undefined ? {} : { patient }),
    };
    await options.recordAudit({ event: "export", ...common, object });
    if (auditTrail) await options.recordAudit({ event: "audit-log-used", ...common });
  };
  const bundle = (scope: FhirScope, base: string) =>
    fhirExport(node.store, node.crypto, node.config.origin, scope, {
      now: formatTime(node.clock.now()),
      base,
    });
  const baseOf = (req: { protocol: string; headers: { host?: string | undefined } }): string =>
    `${req.protocol}://${req.headers.host ?? "localhost"}/api/v1/fhir`;

  app.get("/api/v1/fhir", async (req, reply) => {
    const actor = await authenticated(req, reply);
    // Staff other than auditors and admins are refused before the query is even read, as before.
    if (!isReader(actor) && actor?.kind !== "patient") throw denied();
    const scope = scopeOf(req.query as Record<string, string | undefined>);
    await authorizeExport(actor, scope);
    await recordExport(
      actor!,
      "/api/v1/fhir",
      { kind: "Bundle", ...("report" in scope ? { id: scope.report } : {}) },
      "patient" in scope ? scope.patient : undefined,
      true,
    );
    const b = bundle(scope, baseOf(req));
    return reply.type("application/fhir+json").send(b);
  });

  app.get("/api/v1/fhir/:type/:id", async (req, reply) => {
    // One resource by id is for auditors and admins only: an id says nothing of whose record it is.
    const reader = await authenticated(req, reply);
    if (!isReader(reader)) throw denied();
    const { type, id } = req.params as { type: string; id: string };
    rejectUnknownQuery(req.query, []);
    if (!TYPES.has(type)) throw new RadledgerError("ROUTE_NOT_FOUND", "no such FHIR resource type here");
    if (!ENTRY_ID.test(id))
      throw new RadledgerError("INPUT_INVALID", "a resource id is an entry id", { at: "id" });
    const names = (actor: string): string | undefined => {
      const d = getActor(node.store, actor);
      return d !== undefined && d.kind !== "patient" && typeof d.displayName === "string"
        ? d.displayName
        : undefined;
    };
    const doc = (kind: string) => node.store.getDoc(kind, id);
    let found: FhirResource | undefined;
    if (type === "Device") {
      const m = doc("ai.model") as ModelDoc | undefined;
      found = m && deviceOf(m);
    } else if (type === "Consent") {
      const g = getGrant(node.store, id);
      found = g && consentOf(g, node.config.origin);
    } else if (type === "AuditEvent") {
      const a = doc("access") as AccessDoc | undefined;
      found = a && auditEventOf(a, node.config.origin, names(a.actor));
    } else if (type === "DiagnosticReport") {
      const r = doc("report") as ReportDoc | undefined;
      found = r && diagnosticReportOf(r, names);
    } else {
      // Provenance of an AI inference (contributions come with their report's bundle).
      const i = doc("ai.inference") as InferenceView | undefined;
      found = i && inferenceProvenance(i);
    }
    if (found === undefined) throw new RadledgerError("RECORD_NOT_FOUND", `no ${type} ${id}`);
    await recordExport(
      reader!,
      "/api/v1/fhir/{type}/{id}",
      { kind: type, id },
      undefined,
      type === "AuditEvent",
    );
    return reply.type("application/fhir+json").send(found);
  });
}
