/**
 * Orthanc asks the node (issue 21 §1; docs/families/imaging.md "Orthanc asks the node"):
 * `POST /api/v1/orthanc/authorize`, called by the Orthanc authorization plugin
 * (plugins/orthanc/radledger_authz.py) for a request that reaches a patient's data in Orthanc.
 *
 * The plugin authenticates itself with its own bearer token (an `integration` actor) and forwards
 * the credential of the caller it is filtering — the viewer's bearer token or the web app's session
 * cookie —, the caller's address, the Study Instance UID the request is about (the plugin maps
 * Orthanc's identifiers to it inside Orthanc; they never reach the node or the log) and the
 * X-Radledger-* headers that say why. The node authenticates the caller as its own API would, then
 * decides and records exactly as the DICOMweb proxy does (src/app/dicomweb-access.ts: consent, care
 * relationship, break-glass, research context; the access entry on the log, permit or deny, before
 * the answer leaves): a permit is answered only once its record is durable. A caller that cannot be
 * authenticated, or a study not registered on this node, is a deny with nothing recorded (there is
 * no actor, or no patient, to record it against). The answer is always 200 with the decision, so
 * the plugin can cache it; a malformed question is a coded 400, which the plugin treats as a deny.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toRadledgerError } from "../core/errors.js";
import type { DicomwebAuthorizer } from "../app/dicomweb-access.js";
import { getActor, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import {
  BREAK_GLASS_HEADER,
  BREAK_GLASS_JUSTIFICATION_HEADER,
  CONTEXT_HEADER,
  PURPOSE_HEADER,
  whyOf,
} from "./dicomweb.js";
import { defineRoute, type Api } from "./route.js";

/** PS3.5 §9.1 UID. */
const studyUid = z
  .string()
  .max(64)
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/, "expected a DICOM UID (PS3.5 §9.1)");
const token = z.string().regex(/^[!-~]{1,200}$/, "expected a token");

const question = z.strictObject({
  credential: z
    .union([z.strictObject({ authorization: z.string().max(300) }), z.strictObject({ session: token })])
    .describe("the filtered request's credential: its Authorization header, or the radledger_session cookie"),
  ip: z
    .string()
    .max(64)
    .describe("the filtered request's client address (failed credentials count against it)"),
  study: studyUid.describe("the Study Instance UID the request is about"),
  action: z.enum(["read", "download"]).describe("download: DICOM files and archives; read: everything else"),
  headers: z
    .strictObject({
      [PURPOSE_HEADER]: z.string().max(32).optional(),
      [BREAK_GLASS_HEADER]: z.string().max(64).optional(),
      [BREAK_GLASS_JUSTIFICATION_HEADER]: z.string().max(8000).optional(),
      [CONTEXT_HEADER]: z.string().max(100).optional(),
    })
    .default({})
    .describe("the filtered request's X-Radledger-* headers (purpose of use, break-glass, context)"),
});

const answer = z.object({
  decision: z.enum(["permit", "deny"]),
  reason: z.string().optional().describe("why a deny: a decide() reason, unauthenticated, unknown-study"),
});

type Answer = z.infer<typeof answer>;

export function registerOrthancAuthzRoutes(
  app: FastifyInstance,
  api: Api,
  authorizer: DicomwebAuthorizer,
): void {
  /** The filtered caller's actor id, or undefined (a deny; the failure counts against its address). */
  const caller = async (credential: z.infer<typeof question>["credential"], ip: string) => {
    let t: string | undefined;
    if ("session" in credential) t = credential.session;
    else t = /^Bearer ([!-~]{1,200})$/i.exec(credential.authorization)?.[1];
    const bucket = `orthanc:${ip}`;
    if (t === undefined || api.buckets.authFailures.peek(bucket) > 0) {
      api.buckets.authFailures.take(bucket);
      return undefined;
    }
    try {
      const record = await api.auth.verifyToken(t, api.node.clock.now());
      const actor = getActor(api.node.ledger.state, record.actor);
      if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR) return undefined;
      return actor.id;
    } catch {
      api.buckets.authFailures.take(bucket);
      return undefined;
    }
  };

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/orthanc/authorize",
    tag: "imaging",
    summary:
      "Decides a request the Orthanc authorization plugin filters (plugins/orthanc/radledger_authz.py): authenticates the forwarded credential, decides as the DICOMweb gatekeeper does (consent, care relationship, break-glass, research context) and records the access, permit or deny, before answering.",
    auth: ["integration"],
    body: question,
    response: { description: "the decision", schema: answer },
    async handler({ body }): Promise<Answer> {
      const w = whyOf((name) => body.headers[name as keyof typeof body.headers]);
      const actor = await caller(body.credential, body.ip);
      if (actor === undefined) return { decision: "deny", reason: "unauthenticated" };
      const d = await authorizer.authorize({
        actor,
        target: { studyUid: body.study },
        action: body.action,
        ...w,
      });
      if (d.decision === "unknown-study") return { decision: "deny", reason: "unknown-study" };
      if (d.decision === "deny") return { decision: "deny", reason: d.reason };
      try {
        await d.recorded;
      } catch (e) {
        const err = toRadledgerError(e);
        // The basis went away between the decision and its record: the deny is what is recorded.
        if (err.code === "ACCESS_DENIED") return { decision: "deny", reason: "revoked" };
        throw err;
      }
      return { decision: "permit" };
    },
  });
}
