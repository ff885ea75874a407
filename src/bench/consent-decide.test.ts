/** The consent-decision benchmark helpers (consent-decide.ts), over a real node; no timing assertions. */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { makeNode, type TestNode } from "../../test/helpers/node.js";
import { fakeHash } from "../../test/helpers/fixtures.js";
import { consentKit, grantBody, q, type World } from "../../test/helpers/consent.js";
import { benchDecide, percentile, syntheticGrantBody } from "./consent-decide.js";

let t: TestNode;
const { admit, world } = consentKit(() => t);

describe("consent decision bench helpers", () => {
  let w: World;
  beforeEach(async () => {
    t = await makeNode();
    w = await world();
  });
  afterEach(async () => t.close());

  test("the bench helper measures decide() and computes nearest-rank percentiles", async () => {
    await admit(t.sign(w.pt, "consent.granted", grantBody(w.patient)));
    const r = benchDecide(t.node.store, (i) => q(w, { purpose: i % 2 === 0 ? "TREAT" : "HRESCH" }), {
      samples: 200,
      warmup: 10,
    });
    expect(r).toMatchObject({ samples: 200, permits: 100 });
    expect(r.p50Us).toBeLessThanOrEqual(r.p99Us);
    expect(r.p99Us).toBeLessThanOrEqual(r.maxUs);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    const body = syntheticGrantBody(w.patient, "rad-1", 7, fakeHash());
    await admit(t.sign(t.institution, "consent.granted", body));
  });
});
