/**
 * Bundles over HTTP (docs/bundle-format.md):
 *
 * - the browser verifier is a page of the web app (/verify, src/api/web-routes.ts).
 * - `GET /api/v1/bundles/{kind}/{id}[?version=N&disclose=false]`: a record's bundle as a ustar
 *   stream (application/x-tar). Bundles carry disclosed report text and access histories, so the
 *   route needs a bearer token; `apiBundleAuthorizer` decides per kind (below) and buildServer
 *   mounts it with that.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { BUNDLE_EXTENSION, BUNDLE_MEDIA_TYPE } from "../core/bundle/format.js";
import { tarChunks } from "../core/bundle/writer.js";
import { prepareBundle } from "../app/bundle-export.js";
import type { RadledgerNode } from "../app/node.js";
import { getReportDoc } from "../domain/reports/queries.js";
import { defaultPurpose, requirePatientScope } from "./patient-access.js";
import { bearerActor, purposeOf, rejectUnknownQuery, requireRole, type Api, type Caller } from "./route.js";
import { DATASET_READERS, RECORD_READERS, TRIAL_READERS, trialScope } from "./roles.js";
import { requireTrial, requireTrialSubject } from "../domain/trials/queries.js";

export interface BundleRouteOptions {
  /** Decides whether the caller may have this bundle (throw a coded error to refuse). */
  readonly authorize: (
    req: FastifyRequest,
    kind: string,
    id: string,
    reply: FastifyReply,
  ) => Promise<void> | void;
  /** Records the export once the bundle is prepared, before it is streamed. */
  readonly recorded?: (req: FastifyRequest, kind: string, id: string) => Promise<void>;
}

/**
 * Who may take a bundle home, by kind:
 * - report: decided by the gatekeeper like reading the report (consent, care, break-glass, the
 *   patient), recorded as an `export` access of the report before a byte is streamed;
 * - access (a patient's access history): the patient, admins and auditors (a refusal is recorded);
 * - trial, trial-subject: trial roles; dataset: dataset roles (their imaging is de-identified).
 * An unknown kind or record passes here and is answered by prepareBundle (400/404).
 */
export function apiBundleAuthorizer(api: Api): BundleRouteOptions["authorize"] {
  const authenticate = bearerActor(api);
  return async (req, kind, id, reply) => {
    if ((await authenticate(req, reply)) === undefined) {
      void reply.header("www-authenticate", 'Bearer realm="radledger"');
      throw new RadledgerError("AUTH_REQUIRED", "bundles need a bearer token");
    }
    const caller = req.caller!;
    await authorizeKind(api, caller, kind, id);
  };
}

/**
 * The export itself (DICOM 110106), once the bundle is prepared and before a byte is streamed; an
 * access history is also a use of the audit trail (110101). docs/audit.md "What is recorded when".
 */
export function apiBundleRecorder(api: Api): NonNullable<BundleRouteOptions["recorded"]> {
  return async (req, kind, id) => {
    const caller = req.caller;
    if (caller === undefined || !BUNDLE_KIND.test(kind)) return;
    const patient = kind === "access" && PSEUDONYM.test(id) ? id : undefined;
    const role =
      caller.actor.kind === "patient" ? "patient" : caller.actor.roles.find((r) => BUNDLE_ROLES.includes(r));
    const common = {
      outcome: "success" as const,
      actor: caller.actor.id,
      purpose: purposeOf(caller),
      ...(role === undefined ? {} : { role }),
      query: "GET /api/v1/bundles/{kind}/{id}",
      ...(patient === undefined ? {} : { patient }),
    };
    await api.gatekeeper.recordAudit({
      event: "export",
      ...common,
      object: { kind, ...(/^[0-9a-f]{64}$/.test(id) ? { id } : {}) },
    });
    if (kind === "access") await api.gatekeeper.recordAudit({ event: "audit-log-used", ...common });
  };
}

const BUNDLE_ROLES = [
  ...new Set([...RECORD_READERS, "radiologist", "clinician", ...TRIAL_READERS, ...DATASET_READERS]),
];
const BUNDLE_KIND = /^(report|access|trial|trial-subject|dataset)$/;
const PSEUDONYM = /^pt_[A-Za-z0-9_-]{43}$/;

async function authorizeKind(api: Api, caller: Caller, kind: string, id: string): Promise<void> {
  if (kind === "access")
    return requirePatientScope(api, caller, id, RECORD_READERS, {
      record: "audit",
      // Nothing to record about a history that is not there: the 404 prepareBundle would give.
      exists: () => {
        if (!PSEUDONYM.test(id) || api.node.store.lookup("access.patient", id, { limit: 1 }).length === 0)
          throw new RadledgerError("RECORD_NOT_FOUND", `no access history for patient ${id.slice(0, 80)}`);
      },
    });
  if (kind === "trial" || kind === "trial-subject") {
    requireRole(caller, TRIAL_READERS);
    // A sponsor's actor takes home its own sponsor's trials only; another's answers 404 as unknown.
    const scope = trialScope(caller);
    if (scope === undefined) return;
    if (kind === "trial") requireTrial(api.node.store, id, scope);
    else requireTrialSubject(api.node.store, id, scope);
    return;
  }
  if (kind === "dataset") {
    requireRole(caller, DATASET_READERS);
    return;
  }
  if (kind !== "report" || !/^[0-9a-f]{64}$/.test(id)) return;
  let doc;
  try {
    doc = getReportDoc(api.node.store, id);
  } catch {
    return; // not a report: prepareBundle answers 404
  }
  const outcome = await api.gatekeeper.authorize({
    actor: caller.actor.id,
    patient: doc.patient,
    part: { kind: "report", id: doc.id, study: doc.study },
    action: "export",
    purpose: defaultPurpose(caller),
  });
  if (outcome.decision.decision === "deny")
    throw new RadledgerError("ACCESS_DENIED", `access denied: ${outcome.decision.reason}`, {
      reason: outcome.decision.reason,
      access: outcome.access.id,
    });
}

export function registerBundleRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  options: BundleRouteOptions,
): void {
  app.get("/api/v1/bundles/:kind/:id", async (req, reply) => {
    const { kind, id } = req.params as { kind: string; id: string };
    const q = req.query as Record<string, unknown>;
    rejectUnknownQuery(q, ["version", "disclose"]);
    let version: number | undefined;
    if (q.version !== undefined) {
      if (typeof q.version !== "string" || !/^[1-9][0-9]{0,8}$/.test(q.version))
        throw new RadledgerError("INPUT_INVALID", "version must be a positive integer", { at: "version" });
      version = Number(q.version);
    }
    if (q.disclose !== undefined && q.disclose !== "true" && q.disclose !== "false")
      throw new RadledgerError("INPUT_INVALID", "disclose is true or false", { at: "disclose" });
    await options.authorize(req, kind, id, reply);
    // Selection and payload discovery happen here, before the first byte: a missing record is a 404.
    const { manifest, members } = prepareBundle(
      node,
      { kind, id, ...(version === undefined ? {} : { version }) },
      {
        disclose: q.disclose !== "false",
      },
    );
    await options.recorded?.(req, kind, id);
    const name = `${manifest.kind}-${id.slice(0, 16)}${manifest.subject.version === undefined ? "" : `-v${manifest.subject.version}`}${BUNDLE_EXTENSION}`;
    return reply
      .type(BUNDLE_MEDIA_TYPE)
      .header("content-disposition", `attachment; filename="${name}"`)
      .header("cache-control", "no-store")
      .send(Readable.from(tarChunks(members)));
  });
}
