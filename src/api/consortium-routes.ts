/**
 * Consortium API (docs/consortium.md): status and alarms, the evidence register (each item an
 * evidence file anyone can check with `radledger verify`), metrics in the Prometheus text format,
 * and consortium-wide queries answered from this node's mirrors.
 *
 * Access control for the query routes (a patient's cross-institution access history) is the API
 * layer's general authentication, which these routes inherit when it lands.
 */
import type { FastifyInstance } from "fastify";
import { RadledgerError } from "../core/errors.js";
import type { ConsortiumService } from "../app/consortium.js";
import {
  consortiumAccessHistory,
  datasetsSharedWith,
  grantsNamingInstitution,
  linkedPseudonyms,
} from "../domain/consortium/queries.js";

const PSEUDONYM = /^pt_[A-Za-z0-9_-]{43}$/;

function metric(name: string, help: string, samples: readonly [labels: string, value: number][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  return lines.join("\n") + "\n";
}

/** Prometheus label value escaping (backslash, quote, newline). */
const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function registerConsortiumRoutes(app: FastifyInstance, consortium: ConsortiumService): void {
  app.get("/api/v1/consortium/status", async () => consortium.status());

  app.get("/api/v1/consortium/evidence", async () => ({
    items: consortium.witnessStore.evidence().map(({ text: _text, ...rest }) => rest),
  }));

  app.get("/api/v1/consortium/evidence/:id", async (req, reply) => {
    const raw = (req.params as Record<string, unknown>).id;
    if (typeof raw !== "string" || !/^[1-9][0-9]{0,15}$/.test(raw))
      throw new RadledgerError("INPUT_INVALID", "evidence id must be a positive integer", { at: "id" });
    const found = consortium.witnessStore.evidence().find((e) => e.id === Number(raw));
    if (!found) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${raw}`);
    return reply.type("text/plain; charset=utf-8").send(found.text);
  });

  app.get("/api/v1/consortium/metrics", async (_req, reply) => {
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
  });

  app.get("/api/v1/consortium/grants", async () => {
    const { own, mirrors } = consortium.logViews();
    return { items: grantsNamingInstitution(own, mirrors) };
  });

  app.get("/api/v1/consortium/datasets", async () => {
    const { own, mirrors } = consortium.logViews();
    return { items: datasetsSharedWith(own, mirrors) };
  });

  app.get("/api/v1/consortium/patients/:patient/access", async (req) => {
    const patient = (req.params as Record<string, unknown>).patient;
    if (typeof patient !== "string" || !PSEUDONYM.test(patient))
      throw new RadledgerError("INPUT_INVALID", "expected a patient pseudonym", { at: "patient" });
    const { own, mirrors } = consortium.logViews();
    return {
      patient,
      links: linkedPseudonyms(own, mirrors, patient),
      logs: consortiumAccessHistory(own, mirrors, patient),
    };
  });
}
