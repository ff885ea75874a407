/** Synthetic record bodies for tests: pseudonyms and hashes are random, never real identifiers. */
import { randomBytes } from "node:crypto";
import type { JsonObject } from "../../src/core/canonical-json.js";

const b64url = (n: number): string => randomBytes(n).toString("base64url").slice(0, 43);

export const fakePseudonym = (prefix: "pt_" | "st_" | "se_" | "ts_" = "pt_"): string => prefix + b64url(32);
export const fakeHash = (): string => randomBytes(32).toString("hex");

export function studyBody(patient = fakePseudonym(), overrides: JsonObject = {}): JsonObject {
  return {
    studyKey: fakePseudonym("st_"),
    patient,
    modalities: ["MR"],
    bodyPart: "HEAD",
    series: [
      {
        seriesKey: fakePseudonym("se_"),
        modality: "MR",
        bodyPart: "HEAD",
        instanceCount: 3,
        manifestRoot: fakeHash(),
      },
      { seriesKey: fakePseudonym("se_"), modality: "MR", instanceCount: 2, manifestRoot: fakeHash() },
    ],
    instanceCount: 5,
    manifestRoot: fakeHash(),
    source: { kind: "pacs", name: "orthanc-main" },
    ...overrides,
  };
}
