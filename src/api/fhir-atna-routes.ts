/**
 * IHE RESTful ATNA over FHIR R4 (https://profiles.ihe.net/ITI/RESTful-ATNA, docs/audit.md "FHIR feed
 * (ITI-20) and query (ITI-81)"):
 *
 *   POST /api/v1/fhir/AuditEvent   Record Audit Event [ITI-20]: one AuditEvent → 201, Location of
 *                                  the (first) access.reported entry, an OperationOutcome naming all
 *   POST /api/v1/fhir              a batch or transaction Bundle of AuditEvents → a batch-response /
 *                                  transaction-response Bundle, one entry.response per event
 *   GET  /api/v1/fhir/AuditEvent   Retrieve ATNA Audit Event [ITI-81]: a searchset Bundle of the
 *                                  node's own decisions and the reported accesses, newest first
 *
 * The feed is for enrolled system actors with the integration role (bearer token, or the mutual TLS
 * certificate bound to them — route.ts authenticate), whose statements the node signs with their
 * key exactly as the syslog path does (src/app/audit-intake.ts). The query is for auditors and
 * admins; a patient may search `patient=` their own pseudonym only, and asking for another's is
 * recorded as a deny before it is refused. Every query is recorded (110101 Audit Log Used) before
 * it is answered.
 *
 * Errors of a whole request are RFC 9457 problem+json as everywhere on this API (docs/api.md) — one
 * error format whatever the Accept header; inside a Bundle response each refused event carries an
 * OperationOutcome (FHIR R4 Bundle.entry.response.outcome), whose issue names the radledger code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Bundle, BundleEntry, OperationOutcome } from "fhir/r4.js";
import { parseStrictJson } from "../core/canonical-json.js";
import { RadledgerError, toRadledgerError } from "../core/errors.js";
import type { AuditIntake, AuditPeer } from "../app/audit-intake.js";
import type { Gatekeeper } from "../app/gatekeeper.js";
import type { RadledgerNode } from "../app/node.js";
import { parseFhirAuditEvent } from "../domain/access/fhir-audit-event.js";
import { activeActor } from "../domain/consent/state.js";
import { getActor } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import { auditEventOf } from "../domain/fhir/resources.js";
import { reportedAuditEventOf } from "../domain/fhir/reported-audit-event.js";
import type { DicomwebAuthenticator } from "./dicomweb.js";
import { problemOf } from "./problem.js";
import { decodeUtf8Body } from "./json-body.js";
import { feedSource, searchParams } from "./fhir-atna-query.js";
import { searchFeed } from "../domain/access/audit-feed.js";

export interface FhirAtnaRouteOptions {
  readonly authenticate: DicomwebAuthenticator;
  readonly intake: AuditIntake;
  readonly recordDenial: Gatekeeper["recordDenial"];
  readonly recordAudit: Gatekeeper["recordAudit"];
}

/** ITI-20 bounds: one event is small; a bundle at most 100 events and 1 MiB. */
export const EVENT_MAX_BYTES = 64 * 1024;
export const BUNDLE_MAX_BYTES = 1024 * 1024;
export const BUNDLE_MAX_EVENTS = 100;
const READER_ROLES = ["auditor", "admin"];

interface RawJson {
  readonly raw: string;
  readonly value: unknown;
}

function outcomeOf(err: RadledgerError): OperationOutcome {
  const p = problemOf(err);
  return {
    resourceType: "OperationOutcome",
    issue: [
      {
        severity: "error",
        code:
          p.status === 413
            ? "too-long"
            : p.status >= 500
              ? "exception"
              : p.status === 401 || p.status === 403
                ? "security"
                : "processing",
        details: { coding: [{ system: "https://radledger.dev/errors", code: err.code }], text: p.detail },
        ...(typeof p.at === "string" ? { expression: [p.at] } : {}),
      },
    ],
  };
}

export function registerFhirAtnaRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  options: FhirAtnaRouteOptions,
): void {
  const intake = options.intake;
  const caller = async (req: FastifyRequest, reply: FastifyReply): Promise<ActorDoc | undefined> => {
    const who = await options.authenticate(req, reply);
    if (who === undefined)
      throw new RadledgerError("AUTH_REQUIRED", "the FHIR audit endpoints need credentials");
    return activeActor(node.store, who.actor);
  };

  /** The feed's sender: an active system actor with the integration role whose key the node holds. */
  const sender = async (req: FastifyRequest, reply: FastifyReply): Promise<string> => {
    try {
      const actor = await caller(req, reply);
      if (actor === undefined || actor.kind !== "system" || !actor.roles.includes("integration"))
        throw new RadledgerError(
          "AUDIT_FEED_FORBIDDEN",
          "audit events are recorded for enrolled system actors with the integration role only",
        );
      return intake.systemActor(actor.id);
    } catch (e) {
      intake.refused("fhir-iti20", e);
      throw e;
    }
  };
  const peerOf = (req: FastifyRequest): AuditPeer => ({ transport: "fhir-iti20", address: req.ip });
  const bodyOf = (req: FastifyRequest): RawJson => {
    const body = req.body as RawJson | undefined;
    if (body === undefined)
      throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", "the request has no body", { at: "body" });
    return body;
  };
  const entryUrl = (id: string): string => `/api/v1/log/entries/${id}`;

  // The sender is known before its body is read (onRequest precedes parsing): a caller who may not
  // feed is refused without the node parsing up to 1 MiB of its JSON, and gets 401/403, not a 400.
  const senders = new WeakMap<FastifyRequest, string>();
  const senderOf = (req: FastifyRequest): string => {
    const actor = senders.get(req);
    if (actor === undefined) throw new RadledgerError("INTERNAL", "the feed's sender was not identified");
    return actor;
  };

  void app.register(async (scope) => {
    scope.addHook("onRequest", async (req, reply) => {
      senders.set(req, await sender(req, reply));
    });
    // FHIR's media type and plain JSON (RESTful ATNA §3.20.4.1.2 lets the client send either), read
    // as text — the raw resource is what the commitment covers — then strictly parsed (RFC 8259, no
    // duplicate names, depth ≤ 32: the server's parser, src/api/server.ts).
    scope.removeContentTypeParser(["application/json"]);
    scope.addContentTypeParser(
      ["application/json", "application/fhir+json"],
      { parseAs: "buffer" },
      (_req, body, done) => {
        try {
          const raw = decodeUtf8Body(body as Buffer);
          let value: unknown;
          try {
            value = parseStrictJson(raw, { allowNull: true });
          } catch (e) {
            throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", `not JSON: ${toRadledgerError(e).message}`, {
              at: "body",
            });
          }
          done(null, { raw, value } satisfies RawJson);
        } catch (e) {
          intake.refused("fhir-iti20", e);
          done(e as Error, undefined);
        }
      },
    );

    scope.post("/api/v1/fhir/AuditEvent", { bodyLimit: EVENT_MAX_BYTES }, async (req, reply) => {
      const actor = senderOf(req);
      const { raw, value } = bodyOf(req);
      const recorded = await intake.recordEvent(actor, peerOf(req), () => parseFhirAuditEvent(value), raw);
      const outcome: OperationOutcome = {
        resourceType: "OperationOutcome",
        issue: recorded.map((r) => ({
          severity: "information",
          code: "informational",
          diagnostics: `recorded as access.reported entry ${r.id} (index ${r.index}) for ${r.patient}`,
        })),
      };
      return reply
        .code(201)
        .header("location", entryUrl(recorded[0]!.id))
        .type("application/fhir+json")
        .send(outcome);
    });

    scope.post("/api/v1/fhir", { bodyLimit: BUNDLE_MAX_BYTES }, async (req, reply) => {
      const actor = senderOf(req);
      const { value } = bodyOf(req);
      const bad = (message: string, at: string): never => {
        const err = new RadledgerError("AUDIT_MESSAGE_MALFORMED", `Bundle: ${message}`, { at });
        intake.refused("fhir-iti20", err);
        throw err;
      };
      const bundle = value as Record<string, unknown> | null;
      if (
        typeof bundle !== "object" ||
        bundle === null ||
        Array.isArray(bundle) ||
        bundle.resourceType !== "Bundle"
      )
        bad("the body is not a Bundle", "Bundle.resourceType");
      const type = bundle!.type;
      if (type !== "batch" && type !== "transaction") bad("type is not batch or transaction", "Bundle.type");
      const entries = bundle!.entry ?? [];
      if (!Array.isArray(entries) || entries.length === 0)
        bad("entry must be a non-empty array", "Bundle.entry");
      if ((entries as unknown[]).length > BUNDLE_MAX_EVENTS) {
        const err = new RadledgerError(
          "AUDIT_MESSAGE_TOO_LARGE",
          `a Bundle holds at most ${BUNDLE_MAX_EVENTS} events`,
          {
            at: "Bundle.entry",
          },
        );
        intake.refused("fhir-iti20", err);
        throw err;
      }
      // Each event's raw text is its own JSON serialisation: the Bundle's text is not the event's.
      const items = (entries as unknown[]).map((e, i) => {
        const resource =
          typeof e === "object" && e !== null ? (e as { resource?: unknown }).resource : undefined;
        const raw = JSON.stringify(resource ?? null);
        return {
          raw,
          read: () => {
            if (raw.length > EVENT_MAX_BYTES)
              throw new RadledgerError("AUDIT_MESSAGE_TOO_LARGE", "an event exceeds 64 KiB", {
                at: `Bundle.entry[${i}].resource`,
              });
            return parseFhirAuditEvent(resource);
          },
        };
      });
      const peer = peerOf(req);
      const ok = (r: { id: string }[]): BundleEntry => ({
        response: { status: "201 Created", location: entryUrl(r[0]!.id) },
      });
      const refused = (e: unknown): BundleEntry => {
        const err = toRadledgerError(e);
        return { response: { status: String(problemOf(err).status), outcome: outcomeOf(err) } };
      };
      let responses: BundleEntry[];
      if (type === "transaction") {
        // All or nothing: recordAll prepares every event before appending any.
        responses = (await intake.recordAll(actor, peer, items)).map(ok);
      } else {
        responses = [];
        for (const item of items) {
          try {
            responses.push(ok(await intake.recordEvent(actor, peer, item.read, item.raw)));
          } catch (e) {
            responses.push(refused(e));
          }
        }
      }
      const answer: Bundle = {
        resourceType: "Bundle",
        type: type === "transaction" ? "transaction-response" : "batch-response",
        entry: responses,
      };
      return reply.code(200).type("application/fhir+json").send(answer);
    });
  });

  app.get("/api/v1/fhir/AuditEvent", async (req, reply) => {
    const actor = await caller(req, reply);
    const reader = actor !== undefined && actor.roles.some((r) => READER_ROLES.includes(r));
    if (!reader && actor?.kind !== "patient")
      throw new RadledgerError("ACCESS_DENIED", "the audit trail is for auditors and administrators");
    const params = searchParams(req.query as Record<string, string | string[] | undefined>);
    if (!reader) {
      const own = typeof actor.patient === "string" ? actor.patient : undefined;
      if (params.filter.patient === undefined)
        throw new RadledgerError(
          "FORBIDDEN_NOT_OWN_RECORD",
          "a patient searches the audit trail with patient=<their pseudonym> only",
        );
      if (params.filter.patient !== own) {
        const denial = await options.recordDenial({
          actor: actor.id,
          patient: params.filter.patient,
          part: { kind: "record" },
          action: "export",
          purpose: "PATRQT",
          reason: "not-own-record",
        });
        throw new RadledgerError(
          "FORBIDDEN_NOT_OWN_RECORD",
          "a patient searches their own audit trail only",
          {
            reason: "not-own-record",
            access: denial.id,
          },
        );
      }
    }
    const source = feedSource(node, params.filter);
    const role = actor.kind === "patient" ? "patient" : actor.roles.find((r) => READER_ROLES.includes(r));
    // Recorded before it is answered (docs/audit.md "What is recorded when"): never the query's values
    // but the patient.
    await options.recordAudit({
      event: "audit-log-used",
      outcome: "success",
      actor: actor.id,
      purpose: actor.kind === "patient" ? "PATRQT" : "HOPERAT",
      ...(role === undefined ? {} : { role }),
      query: "GET /api/v1/fhir/AuditEvent",
      ...(params.filter.patient === undefined ? {} : { patient: params.filter.patient }),
    });
    const page = searchFeed(node.store, source, params.filter, {
      ...(params.before === undefined ? {} : { before: params.before }),
      limit: params.count,
    });
    const names = (id: string): string | undefined => {
      const d = getActor(node.store, id);
      return d !== undefined && d.kind !== "patient" && typeof d.displayName === "string"
        ? d.displayName
        : undefined;
    };
    const base = `${req.protocol}://${req.headers.host ?? "localhost"}/api/v1/fhir`;
    const self = `${base}/AuditEvent?${params.selfQuery}`;
    const link = [{ relation: "self", url: self }];
    if (page.next !== undefined)
      link.push({ relation: "next", url: `${base}/AuditEvent?${params.nextQuery(page.next)}` });
    const answer: Bundle = {
      resourceType: "Bundle",
      type: "searchset",
      link,
      entry: page.items.map((item) => {
        const resource =
          item.kind === "access"
            ? auditEventOf(item.doc, node.config.origin, names(item.doc.actor))
            : reportedAuditEventOf(item.doc, names(item.doc.reportedBy));
        return { fullUrl: `${base}/AuditEvent/${resource.id!}`, resource, search: { mode: "match" } };
      }),
    };
    return reply.type("application/fhir+json").send(answer);
  });
}
