/**
 * FHIR R4 `POST /api/v1/fhir/DiagnosticReport` (issue 22 §1, docs/intake.md "FHIR"): a reporting
 * system that speaks FHIR sends a DiagnosticReport with its Observations (contained, or in a Bundle
 * with it) and the node records it exactly as an HL7 v2 ORU^R01 (src/app/ris-intake): the same
 * mapping, the same checks before anything is written, the same idempotency (the report's id).
 *
 * The caller authenticates as itself (bearer token or a bound client certificate) and must be an
 * active system actor with the integration role whose key the node holds: the entries are signed
 * by it, on the named clinicians' behalf. Answers: 201 and an OperationOutcome when recorded, 200
 * with the same body for a resend; refusals are problem+json with the code (docs/errors.md).
 */
import { decodeUtf8Body } from "./json-body.js";
import type { FastifyInstance } from "fastify";
import { parseStrictJson } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";
import { readDiagnosticReport } from "../app/ris-intake/fhir.js";
import { RisIntake } from "../app/ris-intake/intake.js";
import type { DicomwebAuthenticator } from "./dicomweb.js";

const MAX_BODY = 2 * 1024 * 1024;

export function registerFhirReportIntake(
  app: FastifyInstance,
  node: RadledgerNode,
  options: { readonly authenticate: DicomwebAuthenticator },
): void {
  const intake = new RisIntake(node);
  void app.register(async (scope) => {
    // Encapsulated: FHIR's media type, strict JSON like the rest of the API (application/json is the
    // API's own parser).
    scope.addContentTypeParser(
      "application/fhir+json",
      { parseAs: "buffer", bodyLimit: MAX_BODY },
      (_req, body, done) => {
        try {
          done(null, parseStrictJson(decodeUtf8Body(body as Buffer)));
        } catch {
          done(new RadledgerError("HL7_MESSAGE_MALFORMED", "FHIR DiagnosticReport: the body is not JSON"));
        }
      },
    );
    scope.post("/api/v1/fhir/DiagnosticReport", { bodyLimit: MAX_BODY }, async (req, reply) => {
      const who = await options.authenticate(req, reply);
      if (who === undefined)
        throw new RadledgerError("AUTH_REQUIRED", "posting a DiagnosticReport needs credentials");
      let answer;
      try {
        const sender = intake.checkSender(who.actor);
        const report = readDiagnosticReport(req.body);
        answer = await intake.recordOnce(sender, report, () =>
          JSON.stringify({
            resourceType: "OperationOutcome",
            issue: [{ severity: "information", code: "informational", diagnostics: "recorded" }],
          }),
        );
      } catch (e) {
        throw intake.counted(e);
      }
      return reply
        .code(answer.outcome === "recorded" ? 201 : 200)
        .type("application/fhir+json")
        .send(answer.ack);
    });
  });
}
