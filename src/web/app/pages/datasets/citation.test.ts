import { expect, test } from "vitest";
import { toCsv } from "../../lib/csv.js";
import { citationText, creditRows, CREDIT_CSV_HEADER } from "./citation.js";
import type { CreditReport } from "./types.js";

const report: CreditReport = {
  dataset: { id: "a".repeat(64), name: "Stroke MR" },
  version: 2,
  sealed: true,
  seal: { id: "b".repeat(64), index: 9, manifestRoot: "c".repeat(64), sealedBy: "cur", sealedAt: "x" },
  totals: {
    contributors: 2,
    items: 1,
    annotations: 1,
    vendorContributions: 0,
    itemsByInstitution: [],
    annotationsBySchema: [],
    vendorContributionsByKind: [],
  },
  contributors: [
    {
      actor: "cur",
      displayName: "=HYPERLINK(1)",
      roles: ["curator", "admin"],
      items: 1,
      annotations: 0,
      vendorContributions: 0,
      itemsByInstitution: [{ name: "site-a", count: 1 }],
      annotationsBySchema: [],
      vendorContributionsByKind: [],
    },
    {
      actor: "ann",
      roles: [],
      items: 0,
      annotations: 1,
      vendorContributions: 0,
      itemsByInstitution: [],
      annotationsBySchema: [{ name: "seg", count: 1 }],
      vendorContributionsByKind: [],
    },
  ],
};

test("the citation names each contributor with roles, the version, the log and the manifest root", () => {
  expect(citationText(report, "log.example/x")).toBe(
    `Contributors: =HYPERLINK(1) (curator, admin); ann (contributor). Dataset Stroke MR, version 2, radledger log.example/x, manifest root ${"c".repeat(64)}.`,
  );
  const { seal: _seal, ...open } = report;
  expect(citationText({ ...open, sealed: false }, "o")).toContain("not sealed (provisional)");
});

test("the credit CSV has one row per contributor, breakdowns in one cell, and no live formula", () => {
  const csv = toCsv(CREDIT_CSV_HEADER, creditRows(report));
  const lines = csv.trimEnd().split("\r\n");
  expect(lines).toHaveLength(3);
  expect(lines[1]).toContain(`"'=HYPERLINK(1)"`);
  expect(lines[1]).toContain(`"site-a: 1"`);
  expect(lines[2]).toContain(`"seg: 1"`);
});
