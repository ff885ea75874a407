/**
 * Importing an IHE PCF Consent from a patient portal (docs/fhir.md "Importing a Consent"):
 *
 *   POST /api/v1/fhir/Consent            the patient themself (token or session); the node holds
 *                                        their key (custody "node") → the consent.granted entry is
 *                                        signed with it and appended; 201 with the grant's Consent
 *   POST /api/v1/fhir/Consent/$to-grant  the same mapping, answering the entry to sign — for a
 *                                        patient who holds their own key (custody "self"): the
 *                                        portal signs it and POSTs it to /api/v1/entries, as the
 *                                        web app does (src/web/app/pages/patient/consent-submit.ts)
 *
 * The mapping (src/domain/fhir/consent-import.ts) refuses what a grant cannot keep with
 * FHIR_CONSENT_UNSUPPORTED. Nobody but the patient submits their Consent: staff (or another
 * patient) naming a patient is refused FORBIDDEN_NOT_OWN_RECORD, after the refusal is recorded as an
 * access.recorded deny about that patient (src/api/patient-access.ts does the same for reads).
 */
import type { FastifyInstance } from "fastify";
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";
import { signAs } from "../app/keys.js";
import { getGrant } from "../domain/consent/state.js";
import { grantOfConsent, type ImportedGrant } from "../domain/fhir/consent-import.js";
import { consentOf } from "../domain/fhir/consent.js";
import { keyCustodyOf } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { Gatekeeper } from "../app/gatekeeper.js";
import { strictJsonBody } from "./json-body.js";

const PSEUDONYM = /^pt_[A-Za-z0-9_-]{43}$/;

export interface FhirConsentRouteOptions {
  /** The calling actor (active), or AUTH_REQUIRED. */
  readonly caller: (req: never, reply: never) => Promise<ActorDoc | undefined>;
  readonly recordDenial: Gatekeeper["recordDenial"];
}

export function registerFhirConsentRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  options: FhirConsentRouteOptions,
): void {
  /** The mapped grant, once the caller is known to be the patient the Consent names. */
  const ownGrant = async (actor: ActorDoc | undefined, input: unknown): Promise<ImportedGrant> => {
    if (actor === undefined)
      throw new RadledgerError("AUTH_REQUIRED", "submitting a Consent needs credentials");
    let grant: ImportedGrant | undefined;
    let named: string | undefined;
    try {
      grant = grantOfConsent(input);
      named = grant.patient;
    } catch (e) {
      // Staff get refused for who they are, not for the Consent's shape; the patient named (if any)
      // is still the one the refusal is about.
      const p = (input as { patient?: { identifier?: { value?: unknown } } } | null)?.patient?.identifier
        ?.value;
      if (actor.kind === "patient") throw e;
      named = typeof p === "string" ? p : undefined;
    }
    const own = actor.kind === "patient" && typeof actor.patient === "string" ? actor.patient : undefined;
    if (own === undefined || named !== own) {
      let access: string | undefined;
      if (named !== undefined && PSEUDONYM.test(named))
        access = (
          await options.recordDenial({
            actor: actor.id,
            patient: named,
            part: { kind: "record" },
            action: "read",
            purpose: actor.kind === "patient" ? "PATRQT" : "HOPERAT",
            reason: actor.kind === "patient" ? "not-own-record" : "role-not-permitted",
          })
        ).id;
      throw new RadledgerError("FORBIDDEN_NOT_OWN_RECORD", "only the patient submits their own Consent", {
        reason: actor.kind === "patient" ? "not-own-record" : "role-not-permitted",
        ...(access === undefined ? {} : { access }),
      });
    }
    return grant!;
  };

  void app.register(async (scope) => {
    // FHIR's media type (RFC 6838 +json): the same strict UTF-8 JSON as application/json.
    scope.addContentTypeParser("application/fhir+json", { parseAs: "buffer" }, strictJsonBody);

    scope.post("/api/v1/fhir/Consent", async (req, reply) => {
      const actor = await options.caller(req as never, reply as never);
      const g = await ownGrant(actor, req.body);
      if (keyCustodyOf(actor!) === "self")
        throw new RadledgerError(
          "SIGNING_KEY_NOT_HELD",
          `${actor!.id} holds their own key: POST the Consent to /api/v1/fhir/Consent/$to-grant, sign the answer's entry and POST it to /api/v1/entries`,
        );
      const key = node.heldKeys.get(actor!.id);
      if (key === undefined)
        throw new RadledgerError("SIGNING_KEY_NOT_HELD", `the node holds no key for ${actor!.id}`);
      const bytes = signAs(node.crypto, key, node.config.origin, "consent.granted", g.body, {
        refs: g.refs.study === undefined ? {} : { study: g.refs.study },
        time: node.clock.now(),
      });
      const { leafHash } = await node.appender.append(bytes);
      const consent = consentOf(getGrant(node.store, leafHash)!, node.config.origin);
      return reply
        .code(201)
        .header("location", `/api/v1/fhir/Consent/${leafHash}`)
        .type("application/fhir+json")
        .send(consent);
    });

    scope.post("/api/v1/fhir/Consent/$to-grant", async (req, reply) => {
      const actor = await options.caller(req as never, reply as never);
      const g = await ownGrant(actor, req.body);
      const entry: JsonObject = {
        type: "consent.granted",
        body: g.body,
        ...(g.refs.study === undefined ? {} : { refs: { study: g.refs.study } }),
      };
      return reply.send(entry);
    });
  });
}
