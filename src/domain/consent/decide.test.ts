/** The consent decision (decide.ts): examples, then properties over random grants and queries. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import fc from "fast-check";
import type { JsonObject } from "../../core/canonical-json.js";
import { makeNode, ORIGIN, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import {
  consentKit,
  grantBody,
  onBehalf,
  q,
  randomId,
  T2020,
  T2025,
  T2026,
  T2030,
  type World,
} from "../../../test/helpers/consent.js";
import { decide, type AccessQuery } from "./decide.js";
import { PURPOSES_OF_USE, type Part, type PurposeOfUse } from "./entries.js";

let t: TestNode;
const { admit, world } = consentKit(() => t);

describe("decide", () => {
  let w: World;
  beforeEach(async () => {
    t = await makeNode();
    w = await world();
  });
  afterEach(async () => t.close());

  const grant = async (overrides: JsonObject = {}, refs?: Record<string, string>): Promise<string> =>
    admit(t.sign(w.pt, "consent.granted", grantBody(w.patient, overrides), refs));
  const d = (overrides: Partial<AccessQuery> = {}) => decide(t.node.store, q(w, overrides));

  test("deny by default; unknown actors are denied", async () => {
    expect(d()).toEqual({ decision: "deny", reason: "no-grant" });
    expect(d({ actor: "nobody" })).toEqual({ decision: "deny", reason: "actor-unknown" });
    await grant({ grantee: { kind: "actor", id: "pt-actor-1" } });
    expect(d()).toEqual({ decision: "deny", reason: "no-grant" });
  });

  test("patients always open their own record, and only their own", async () => {
    expect(d({ actor: "pt-actor-1", purpose: "PATRQT" })).toEqual({
      decision: "permit",
      basis: { kind: "patient" },
      reason: "own-record",
    });
    expect(d({ actor: "pt-actor-1", patient: fakePseudonym() })).toEqual({
      decision: "deny",
      reason: "part-not-of-patient",
    });
    expect(
      d({ actor: "pt-actor-1", patient: fakePseudonym(), part: { kind: "dataset", id: fakeHash() } }),
    ).toEqual({
      decision: "deny",
      reason: "no-grant",
    });
  });

  test("scope: all-imaging, one study, reports only, one study's reports", async () => {
    const other = await admit(t.sign(t.institution, "study.registered", studyBody(w.patient)));
    const report = fakeHash();
    const parts: Record<string, Part> = {
      study: { kind: "study", id: w.study },
      series: { kind: "series", id: w.series, study: w.study },
      instance: { kind: "instance", id: randomId("in_"), study: w.study },
      report: { kind: "report", id: report, study: w.study },
      section: { kind: "report-section", id: fakeHash(), report, study: w.study },
      otherStudy: { kind: "study", id: other },
      otherReport: { kind: "report", id: fakeHash(), study: other },
      dataset: { kind: "dataset", id: fakeHash() },
    };
    const covered = (): string[] =>
      Object.keys(parts).filter((k) => d({ part: parts[k]! }).decision === "permit");

    const study = await grant({ scope: { kind: "study" } }, { study: w.study });
    expect(covered()).toEqual(["study", "series", "instance", "report", "section"]);
    expect(d({ part: parts.otherStudy! })).toEqual({ decision: "deny", reason: "outside-scope" });
    await admit(t.sign(w.pt, "consent.revoked", {}, { grant: study }));

    const studyReports = await grant({ scope: { kind: "study-reports" } }, { study: w.study });
    expect(covered()).toEqual(["report", "section"]);
    await admit(t.sign(w.pt, "consent.revoked", {}, { grant: studyReports }));

    const reports = await grant({ scope: { kind: "reports-only" } });
    expect(covered()).toEqual(["report", "section", "otherReport"]);
    expect(d({ part: parts.study! })).toEqual({ decision: "deny", reason: "revoked" }); // the study grant, revoked, was closest
    await admit(t.sign(w.pt, "consent.revoked", {}, { grant: reports }));

    await grant({ scope: { kind: "all-imaging" } });
    expect(covered()).toEqual(Object.keys(parts));
  });

  test("a part on record as another patient's is denied whatever the grants", async () => {
    await grant();
    const strangers = await admit(t.sign(t.institution, "study.registered", studyBody()));
    expect(d({ part: { kind: "study", id: strangers } })).toEqual({
      decision: "deny",
      reason: "part-not-of-patient",
    });
    expect(d({ part: { kind: "series", id: randomId("se_"), study: strangers } }).decision).toBe("deny");
  });

  test("purpose: only the purposes granted", async () => {
    const id = await grant({ purposes: ["TREAT", "HRESCH"] });
    expect(d({ purpose: "HRESCH" })).toMatchObject({ decision: "permit", grant: id, reason: "consent" });
    expect(d({ purpose: "HPAYMT" })).toEqual({ decision: "deny", reason: "purpose-not-granted" });
    expect(d({ purpose: "ETREAT" })).toEqual({ decision: "deny", reason: "purpose-not-granted" });
  });

  test("period: not before its start, not from its end on", async () => {
    await grant({ period: { start: T2025, end: T2026 } });
    expect(d({ time: "2025-06-01T11:59:59.999Z" })).toEqual({ decision: "deny", reason: "not-yet-valid" });
    expect(d({ time: T2025 }).decision).toBe("permit");
    expect(d({ time: "2025-12-31T23:59:59.999Z" }).decision).toBe("permit");
    expect(d({ time: T2026 })).toEqual({ decision: "deny", reason: "expired" });
    expect(d({ time: T2030 })).toEqual({ decision: "deny", reason: "expired" });
    expect(() => d({ time: "2025-06-01" })).toThrow(expect.objectContaining({ code: "INPUT_INVALID" }));
  });

  test("institution, trial and dataset grantees", async () => {
    const cur = "cur-1";
    await t.enrol(cur, ["curator"]);
    const dataset = fakeHash();
    const trial = fakeHash();
    await grant({
      grantee: { kind: "institution", id: "radledger.other.example/log" },
      purposes: ["HRESCH"],
    });
    expect(d({ actor: cur, purpose: "HRESCH" })).toEqual({ decision: "deny", reason: "no-grant" });
    await grant({ grantee: { kind: "institution", id: ORIGIN }, purposes: ["HOPERAT"] });
    expect(d({ actor: cur, purpose: "HOPERAT" })).toMatchObject({
      decision: "permit",
      basis: { kind: "consent" },
    });
    // An institution grant covers its staff, not other patients who hold keys in its log.
    await t.enrol("pt-actor-2", ["patient"], { patient: fakePseudonym() });
    expect(d({ actor: "pt-actor-2", purpose: "HOPERAT" })).toEqual({ decision: "deny", reason: "no-grant" });
    await grant({ grantee: { kind: "dataset", id: dataset }, purposes: ["HRESCH"] });
    // The institution grant (HOPERAT) covers the curator, but not for research without the dataset context.
    expect(d({ actor: cur, purpose: "HRESCH" })).toEqual({ decision: "deny", reason: "purpose-not-granted" });
    expect(d({ actor: cur, purpose: "HRESCH", context: { kind: "dataset", id: dataset } }).decision).toBe(
      "permit",
    );
    expect(d({ actor: cur, purpose: "HRESCH", context: { kind: "trial", id: dataset } }).decision).toBe(
      "deny",
    );
    await grant({ grantee: { kind: "trial", id: trial }, purposes: ["CLINTRL"] });
    expect(d({ actor: "rad-1", purpose: "CLINTRL", context: { kind: "trial", id: trial } }).decision).toBe(
      "permit",
    );
  });

  test("care relationship: TREAT on the clinical record while current", async () => {
    const care = await admit(
      t.sign(t.admin, "care.assigned", {
        patient: w.patient,
        actor: "rad-1",
        period: { start: T2020, end: T2030 },
      }),
    );
    expect(d()).toEqual({ decision: "permit", basis: { kind: "care", care }, reason: "care" });
    expect(d({ part: { kind: "report", id: fakeHash(), study: w.study } }).decision).toBe("permit");
    expect(d({ purpose: "HRESCH" })).toEqual({ decision: "deny", reason: "purpose-not-granted" });
    expect(d({ part: { kind: "dataset", id: fakeHash() } })).toEqual({
      decision: "deny",
      reason: "outside-scope",
    });
    expect(d({ time: T2030 })).toEqual({ decision: "deny", reason: "expired" });
    expect(d({ patient: fakePseudonym(), part: { kind: "dataset", id: fakeHash() } }).decision).toBe("deny");
    await admit(t.sign(t.admin, "care.ended", {}, { care }));
    expect(d()).toEqual({ decision: "deny", reason: "care-ended" });
  });

  test("break-glass: clinical staff, ETREAT, permitted and flagged for review", async () => {
    await t.enrol("cur-1", ["curator"]);
    const bg = { breakGlass: { reason: "patient-unable-to-consent" as const }, purpose: "ETREAT" as const };
    expect(d(bg)).toEqual({
      decision: "permit",
      basis: { kind: "break-glass", reason: "patient-unable-to-consent" },
      review: true,
      reason: "break-glass",
    });
    expect(d({ ...bg, purpose: "TREAT" })).toEqual({ decision: "deny", reason: "break-glass-not-permitted" });
    expect(d({ ...bg, actor: "cur-1" })).toEqual({ decision: "deny", reason: "break-glass-not-permitted" });
    expect(d({ ...bg, part: { kind: "dataset", id: fakeHash() } })).toEqual({
      decision: "deny",
      reason: "break-glass-not-permitted",
    });
    expect(d({ purpose: "ETREAT" })).toEqual({ decision: "deny", reason: "no-grant" });
    // With a grant that covers the emergency, no break-glass is needed and nothing awaits review.
    await grant({ purposes: ["ETREAT"] });
    expect(d(bg)).toMatchObject({ decision: "permit", basis: { kind: "consent" } });
    expect(d(bg)).not.toHaveProperty("review");
  });
});

describe("decide: properties", () => {
  const TIMES = [T2020, T2025, T2026, T2030, "2024-03-15T08:30:00.000Z"];
  const trial = fakeHash();
  const dataset = fakeHash();

  beforeAll(async () => {
    t = await makeNode();
    await t.enrol("rad-1", ["radiologist"]);
    await t.enrol("cli-1", ["clinician"]);
    await t.enrol("cur-1", ["curator"]);
  });
  afterAll(async () => t.close());

  const granteeArb = fc.constantFrom<JsonObject>(
    { kind: "actor", id: "rad-1" },
    { kind: "actor", id: "cli-1" },
    { kind: "institution", id: ORIGIN },
    { kind: "institution", id: "radledger.elsewhere.example/log" },
    { kind: "trial", id: trial },
    { kind: "dataset", id: dataset },
  );
  const periodArb = fc
    .tuple(fc.constantFrom(...TIMES), fc.option(fc.constantFrom(...TIMES), { nil: undefined }))
    .map(([start, end]): JsonObject => (end === undefined || end <= start ? { start } : { start, end }));
  const grantArb = fc.record({
    grantee: granteeArb,
    scope: fc.constantFrom("all-imaging", "study", "reports-only", "study-reports"),
    purposes: fc.uniqueArray(
      fc.constantFrom<PurposeOfUse>("TREAT", "ETREAT", "HRESCH", "CLINTRL", "HOPERAT"),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    period: periodArb,
  });
  const scenarioArb = fc.record({
    grants: fc.array(grantArb, { minLength: 1, maxLength: 4 }),
    care: fc.option(periodArb, { nil: undefined }),
    queries: fc.array(
      fc.record({
        actor: fc.constantFrom("rad-1", "cli-1", "cur-1", "nobody", "patient"),
        part: fc.constantFrom("study", "series", "report", "dataset", "stranger"),
        purpose: fc.constantFrom<PurposeOfUse>(...PURPOSES_OF_USE),
        time: fc.constantFrom(...TIMES),
        breakGlass: fc.boolean(),
        context: fc.constantFrom(undefined, "trial", "dataset"),
      }),
      { minLength: 10, maxLength: 25 },
    ),
  });

  test("never permits without a basis; after every grant is revoked only care, break-glass and the patient permit", async () => {
    let n = 0;
    const stranger = await admit(t.sign(t.institution, "study.registered", studyBody()));
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        n++;
        const patient = fakePseudonym();
        await t.enrol(`pt-${n}`, ["patient"], { patient });
        const body = studyBody(patient);
        const study = await admit(t.sign(t.institution, "study.registered", body));
        const series = (body.series as { seriesKey: string }[])[0]!.seriesKey;
        const grants: string[] = [];
        for (const g of s.grants) {
          const refs = g.scope === "study" || g.scope === "study-reports" ? { study } : undefined;
          const grantBody: JsonObject = {
            patient,
            grantee: g.grantee,
            scope: { kind: g.scope },
            purposes: g.purposes,
            period: g.period,
            onBehalf: onBehalf(),
          };
          grants.push(await admit(t.sign(t.institution, "consent.granted", grantBody, refs)));
        }
        if (s.care)
          await admit(t.sign(t.admin, "care.assigned", { patient, actor: "cli-1", period: s.care }));

        const queries: AccessQuery[] = s.queries.map((x) => {
          const report = fakeHash();
          const part: Part =
            x.part === "study"
              ? { kind: "study", id: study }
              : x.part === "series"
                ? { kind: "series", id: series, study }
                : x.part === "report"
                  ? { kind: "report", id: report, study }
                  : x.part === "dataset"
                    ? { kind: "dataset", id: dataset }
                    : { kind: "study", id: stranger };
          return {
            actor: x.actor === "patient" ? `pt-${n}` : x.actor,
            patient,
            part,
            purpose: x.purpose,
            time: x.time,
            ...(x.breakGlass ? { breakGlass: { reason: "urgent-clinical-need" } } : {}),
            ...(x.context === undefined
              ? {}
              : { context: { kind: x.context, id: x.context === "trial" ? trial : dataset } }),
          };
        });
        for (const query of queries) {
          const r = decide(t.node.store, query);
          if (r.decision === "permit") {
            expect(r.basis).toBeDefined();
            if (r.basis.kind === "consent") expect(grants).toContain(r.grant);
            expect(r.review === true).toBe(r.basis.kind === "break-glass");
          }
        }
        for (const grant of grants)
          await admit(t.sign(t.institution, "consent.revoked", { onBehalf: onBehalf() }, { grant }));
        for (const query of queries) {
          const r = decide(t.node.store, query);
          if (r.decision === "permit") expect(["care", "break-glass", "patient"]).toContain(r.basis.kind);
          if (r.decision === "permit" && r.basis.kind === "care") expect(query.purpose).toBe("TREAT");
          if (r.decision === "permit" && r.basis.kind === "break-glass") expect(query.purpose).toBe("ETREAT");
        }
      }),
      { numRuns: 25 },
    );
  });
});
