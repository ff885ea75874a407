/**
 * Consortium API (docs/consortium.md): status and alarms, the evidence register (each item an
 * evidence file anyone can check with `radledger verify`), metrics in the Prometheus text format,
 * and consortium-wide queries answered from this node's mirrors.
 *
 * Status, evidence and metrics are public like the checkpoints they describe (no PHI). The
 * consortium-wide queries name grants, datasets and a patient's access history, so they need a bearer
 * token: admins and auditors, or the patient for their own history (docs/api.md).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../core/errors.js";
import { pseudonym } from "../domain/schemas.js";
import { defineRoute, type Api } from "./route.js";
import { recordAuditTrailRead, requirePatientScope } from "./patient-access.js";
import { requireKnownPatient } from "../domain/patients.js";
import { RECORD_READERS } from "./roles.js";
import type { ConsortiumService } from "../app/consortium/service.js";
import {
  consortiumAccessHistory,
  datasetsSharedWith,
  grantsNamingInstitution,
  linkedPseudonyms,
} from "../domain/consortium/queries.js";

const json = z.record(z.string(), z.unknown());

function metric(name: string, help: string, samples: readonly [labels: string, value: number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  return lines.join("\n") + "\n";
}

/** Prometheus label value escaping (backslash, quote, newline). */
const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function registerConsortiumRoutes(
  app: FastifyInstance,
  api: Api,
  consortium: ConsortiumService,
): void {
  const tag = "consortium";
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/status",
    tag,
    summary:
      "Witnesses, cosigning, mirrors, anchoring and alarms of this node (docs/consortium.md), and each peer's log verifier key as this node is configured with it.",
    auth: "public",
    response: { description: "the consortium status", schema: json },
    handler: async () => ({
      ...consortium.status(),
      // Public keys, as public as the checkpoints they verify: what a reader of an alarm checks its
      // evidence file with (`radledger verify FILE --log-key KEY`, docs/consortium.md §Evidence).
      peers: consortium.config.peers.map((p) => ({ origin: p.origin, vkey: p.vkey })),
    }),
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/evidence",
    tag,
    summary: "The evidence register: equivocations and unproven observations this node holds.",
    auth: "public",
    response: { description: "evidence items without their files", schema: json },
    handler: async () => ({
      items: consortium.witnessStore.evidence().map(({ text: _text, ...rest }) => rest),
    }),
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/evidence/:id",
    tag,
    summary: "One evidence file, checkable offline with `radledger verify FILE`.",
    auth: "public",
    params: z.strictObject({ id: z.string().regex(/^[1-9][0-9]{0,15}$/, "expected a positive integer") }),
    response: { description: "the evidence file", contentType: "text/plain" },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, reply }) {
      const found = consortium.witnessStore.evidence().find((e) => e.id === Number(params.id));
      if (!found) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${params.id}`);
      return reply.type("text/plain; charset=utf-8").send(found.text);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/metrics",
    tag,
    summary: "Consortium gauges in the Prometheus text format (alarms, witness failures, mirror sizes).",
    auth: "public",
    response: { description: "Prometheus text exposition", contentType: "text/plain" },
    async handler({ reply }) {
      const s = consortium.status();
      const body = [
        metric("radledger_equivocation_alarms", "proven equivocation evidence held by this node", [
          ["", s.alarms.equivocations],
        ]),
        metric("radledger_unproven_observations", "failed consistency proofs kept without proof", [
          ["", s.alarms.unproven],
        ]),
        metric("radledger_log_size", "entries in this node's log", [["", s.logSize]]),
        metric("radledger_checkpoint_published_size", "size of the checkpoint served with cosignatures", [
          ["", s.cosigning.published?.size ?? 0],
        ]),
        metric("radledger_checkpoint_final_size", "size of the newest checkpoint meeting the quorum", [
          ["", s.cosigning.finalSize ?? 0],
        ]),
        metric(
          "radledger_witness_failures",
          "consecutive failed cosignature requests per witness",
          s.cosigning.witnesses.map((w) => [`{witness="${label(w.name)}"}`, w.failures]),
        ),
        metric(
          "radledger_mirror_size",
          "entries mirrored per peer log",
          s.mirrors.map((m) => [`{origin="${label(m.origin)}"}`, m.mirroredSize]),
        ),
        metric("radledger_anchored_size", "size of the newest checkpoint this node anchored", [
          ["", s.anchoring.latest?.size ?? 0],
        ]),
      ].join("");
      return reply.type("text/plain; version=0.0.4; charset=utf-8").send(body);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/grants",
    tag,
    summary: "Consent grants in every mirrored log that name this institution (admins and auditors).",
    auth: RECORD_READERS,
    response: { description: "grants by origin", schema: json },
    handler: async () => {
      const { own, mirrors } = consortium.logViews();
      return { items: grantsNamingInstitution(own, mirrors) };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/datasets",
    tag,
    summary: "Datasets other institutions shared with this one (admins and auditors).",
    auth: RECORD_READERS,
    response: { description: "datasets by origin", schema: json },
    handler: async () => {
      const { own, mirrors } = consortium.logViews();
      return { items: datasetsSharedWith(own, mirrors) };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/consortium/patients/:patient/access",
    tag,
    summary:
      "A patient's access history across the consortium through confirmed pseudonym links: admins, auditors, the patient.",
    auth: "any",
    params: z.strictObject({ patient: pseudonym }),
    response: { description: "links and per-log access history", schema: json },
    errors: ["FORBIDDEN_NOT_OWN_RECORD", "FORBIDDEN_ROLE", "PATIENT_UNKNOWN"],
    async handler({ params, caller }) {
      // The pseudonym is this log's: links to other logs start from a patient this node knows. The
      // read is a use of the audit trail: one 110101 event (docs/audit.md).
      await requirePatientScope(api, caller!, params.patient, RECORD_READERS, {
        exists: () => requireKnownPatient(api.node.store, params.patient),
        record: "audit",
      });
      await recordAuditTrailRead(
        api,
        caller!,
        "/api/v1/consortium/patients/:patient/access",
        RECORD_READERS,
        params.patient,
      );
      const { own, mirrors } = consortium.logViews();
      return {
        patient: params.patient,
        links: linkedPseudonyms(own, mirrors, params.patient),
        logs: consortiumAccessHistory(own, mirrors, params.patient),
      };
    },
  });
}
