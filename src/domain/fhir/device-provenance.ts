/**
 * Device (an AI model version, DICOM TID 4019) and Provenance (report contributions, sign-off, AI
 * inferences) from the ledger's projections (docs/fhir.md).
 */
import type { Coding, Device, Provenance, ProvenanceAgent } from "fhir/r4.js";
import type { ModelDoc } from "../ai/state.js";
import type { ContributionView, ReportDoc } from "../reports/state.js";
import { AIAST, SYSTEMS, actorRef, aiMeta, byIdentifier, instant } from "./common.js";

export function deviceOf(m: ModelDoc): Device {
  const regulatoryId = typeof m.regulatoryId === "string" ? m.regulatoryId : undefined;
  return {
    resourceType: "Device",
    id: m.id,
    identifier: [
      { system: SYSTEMS.entry, value: m.id },
      ...(regulatoryId === undefined ? [] : [{ system: SYSTEMS.regulatory, value: regulatoryId }]),
    ],
    status: m.status === "active" ? "active" : "inactive",
    manufacturer: m.vendor,
    deviceName: [{ name: m.name, type: "model-name" }],
    // DICOM TID 4019 Algorithm Identification.
    version: [
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "111003", display: "Algorithm Version" }] },
        value: m.version,
      },
    ],
    property: [
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "111001", display: "Algorithm Name" }] },
        valueCode: [{ text: m.name }],
      },
    ],
    ...(typeof m.intendedUse === "string" ? { note: [{ text: `Intended use: ${m.intendedUse}` }] } : {}),
  };
}

const participant = (code: string, display: string): { coding: Coding[] } => ({
  coding: [{ system: SYSTEMS.provenanceParticipant, code, display }],
});

/**
 * Provenance of one report contribution, consultation answer or amendment. Content an integration
 * entered on a clinician's behalf names both: the clinician as author, and the system as enterer
 * with `onBehalfOf` the clinician (FHIR R4 Provenance.agent.onBehalfOf).
 */
export function contributionProvenance(
  report: ReportDoc,
  c: ContributionView,
  authorName?: string,
  enteredByName?: string,
): Provenance {
  const ai = c.origin !== "human";
  const human: ProvenanceAgent = {
    type: participant(c.origin === "ai" ? "enterer" : "author", c.origin === "ai" ? "Enterer" : "Author"),
    role: [
      {
        coding: [{ system: SYSTEMS.participationType, code: "AUT", display: "author (originator)" }],
        text: c.role,
      },
    ],
    who: actorRef(c.author, authorName),
  };
  const enterer: ProvenanceAgent[] =
    c.enteredBy === undefined
      ? []
      : [
          {
            type: participant("enterer", "Enterer"),
            who: actorRef(c.enteredBy, enteredByName),
            onBehalfOf: actorRef(c.author, authorName),
          },
        ];
  const agents: ProvenanceAgent[] = [
    ...(c.model === undefined
      ? [human]
      : c.origin === "ai"
        ? [{ type: participant("author", "Author"), who: { reference: `Device/${c.model}` } }, human]
        : [human, { type: participant("assembler", "Assembler"), who: { reference: `Device/${c.model}` } }]),
    ...enterer,
  ];
  return {
    resourceType: "Provenance",
    id: c.id,
    ...(aiMeta(ai) === undefined ? {} : { meta: aiMeta(ai)! }),
    target: [{ reference: `DiagnosticReport/${report.id}`, display: `section ${c.section}` }],
    recorded: instant(c.time),
    activity: {
      coding: [
        c.kind === "amendment" || c.kind === "addendum"
          ? { system: SYSTEMS.dataOperation, code: "UPDATE", display: "revise" }
          : { system: SYSTEMS.dataOperation, code: "CREATE", display: "create" },
      ],
      text: c.kind,
    },
    agent: agents,
    entity: [
      {
        role: "source",
        what: byIdentifier(SYSTEMS.commitment, c.contentCommitment, "content commitment (SHA-256)"),
      },
      ...(c.inference === undefined
        ? []
        : [
            {
              role: "derivation" as const,
              what: { reference: `Provenance/${c.inference}`, display: "AI inference" },
            },
          ]),
      ...(c.amends === undefined
        ? []
        : [{ role: "revision" as const, what: { reference: `Provenance/${c.amends}` } }]),
    ],
  };
}

/** Provenance of a report's sign-off (the attester). */
export function signOffProvenance(report: ReportDoc, signerName?: string): Provenance | undefined {
  const s = report.signOff;
  if (s === undefined) return undefined;
  return {
    resourceType: "Provenance",
    id: s.id,
    target: [{ reference: `DiagnosticReport/${report.id}` }],
    recorded: instant(s.time),
    activity: {
      coding: [{ system: SYSTEMS.dataOperation, code: "UPDATE", display: "revise" }],
      text: `sign-off (${s.attestation})`,
    },
    agent: [
      { type: participant("attester", "Attester"), who: actorRef(s.by, signerName) },
      // A sign-off a system entered on the radiologist's behalf (a RIS's final result, docs/intake.md).
      ...(s.enteredBy === undefined
        ? []
        : [
            {
              type: participant("enterer", "Enterer"),
              who: actorRef(s.enteredBy),
              onBehalfOf: actorRef(s.by, signerName),
            },
          ]),
    ],
  };
}

export interface InferenceView {
  readonly id: string;
  readonly model: string;
  readonly study?: string;
  readonly patient?: string;
  readonly inputManifestRoot: string;
  readonly outputCommitment: string;
  readonly node: string;
  readonly by: string;
  readonly time: string;
}

/** Provenance of one AI inference: the model's Device is the author of its output. */
export function inferenceProvenance(i: InferenceView): Provenance {
  return {
    resourceType: "Provenance",
    id: i.id,
    meta: { security: [AIAST] },
    target: [
      i.study === undefined
        ? byIdentifier(SYSTEMS.commitment, i.outputCommitment, "inference output")
        : byIdentifier(SYSTEMS.study, i.study, "imaging study"),
    ],
    recorded: instant(i.time),
    activity: {
      coding: [{ system: SYSTEMS.dataOperation, code: "CREATE", display: "create" }],
      text: "ai-inference",
    },
    agent: [
      { type: participant("author", "Author"), who: { reference: `Device/${i.model}` } },
      { type: participant("performer", "Performer"), who: actorRef(i.by), onBehalfOf: { display: i.node } },
    ],
    entity: [
      {
        role: "source",
        what: byIdentifier(SYSTEMS.manifestRoot, i.inputManifestRoot, "input images (manifest root)"),
      },
    ],
  };
}
