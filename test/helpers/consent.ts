/**
 * Shared setup of the consent tests (src/domain/consent/*.test.ts): grant bodies, a patient with a
 * registered study and an enrolled radiologist, and append helpers bound to the test's node.
 */
import { expect } from "vitest";
import type { JsonObject } from "../../src/core/canonical-json.js";
import type { RadledgerError } from "../../src/core/errors.js";
import type { HeldKey } from "../../src/app/keys.js";
import type { AccessQuery } from "../../src/domain/consent/decide.js";
import { fakeHash, fakePseudonym, studyBody } from "./fixtures.js";
import type { TestNode } from "./node.js";

export const onBehalf = (): JsonObject => ({ documentCommitment: fakeHash(), reason: "paper-form" });
export const T2020 = "2020-01-01T00:00:00.000Z";
export const T2025 = "2025-06-01T12:00:00.000Z";
export const T2026 = "2026-01-01T00:00:00.000Z";
export const T2030 = "2030-01-01T00:00:00.000Z";

export function grantBody(patient: string, overrides: JsonObject = {}): JsonObject {
  return {
    patient,
    grantee: { kind: "actor", id: "rad-1" },
    scope: { kind: "all-imaging" },
    purposes: ["TREAT"],
    period: { start: T2020 },
    ...overrides,
  };
}

export const randomId = (prefix: "se_" | "in_"): string => prefix + fakePseudonym().slice(3);

export interface World {
  patient: string;
  pt: HeldKey;
  rad: HeldKey;
  study: string;
  series: string;
}

export function q(w: World, overrides: Partial<AccessQuery> = {}): AccessQuery {
  return {
    actor: "rad-1",
    patient: w.patient,
    part: { kind: "study", id: w.study },
    purpose: "TREAT",
    time: T2025,
    ...overrides,
  };
}

/** Helpers that append to whichever node `node()` returns (each test file makes its own). */
export function consentKit(node: () => TestNode) {
  async function refusal(bytes: Uint8Array): Promise<string> {
    const t = node();
    const size = t.node.ledger.size;
    const [r] = await t.node.appender.appendAll([bytes]);
    expect(r!.ok).toBe(false);
    expect(t.node.ledger.size).toBe(size); // a refused entry leaves no trace in the log
    return (r as { error: RadledgerError }).error.code;
  }

  const admit = async (bytes: Uint8Array): Promise<string> =>
    (await node().node.appender.append(bytes)).leafHash;

  async function world(): Promise<World> {
    const t = node();
    const patient = fakePseudonym();
    const pt = await t.enrol("pt-actor-1", ["patient"], { patient });
    const rad = await t.enrol("rad-1", ["radiologist"], { displayName: "Dr Rad" });
    const body = studyBody(patient);
    const study = await admit(t.sign(t.institution, "study.registered", body));
    const series = (body.series as { seriesKey: string }[])[0]!.seriesKey;
    return { patient, pt, rad, study, series };
  }

  return { refusal, admit, world };
}
