/**
 * Credits of one version (GET /api/v1/datasets/:id/credits?version=): who contributed which items,
 * annotations and vendor work, counted over versions 1..N from signed entries; a CSV of it and a
 * citation text to copy. The log's origin for the citation is GET /api/v1/log (public).
 */
import { useState } from "preact/hooks";
import { saveBlob } from "../../api.js";
import { useApi } from "../../hooks.js";
import { csvBlob } from "../../lib/csv.js";
import {
  Badge,
  Button,
  DataTable,
  Facts,
  Id,
  Loaded,
  Section,
  SelectField,
  Time,
  Toolbar,
} from "../../ui/index.js";
import { ActorName } from "../../ui/actor-name.js";
import { citationText, creditRows, CREDIT_CSV_HEADER } from "./citation.js";
import { counts, type CreditReport, type Dataset } from "./types.js";

export function Credits(props: { dataset: Dataset }) {
  const d = props.dataset;
  const latest = d.versions.at(-1)?.version ?? d.openVersion;
  const [version, setVersion] = useState(String(latest));
  const report = useApi<CreditReport>(`/api/v1/datasets/${d.id}/credits`, { version });
  const log = useApi<{ origin: string }>("/api/v1/log");
  const options = [
    ...d.versions.map((v) => ({ value: String(v.version), label: `Version ${v.version} (sealed)` })),
    { value: String(d.openVersion), label: `Version ${d.openVersion} (open, provisional)` },
  ];
  return (
    <Section title="Credits">
      <Toolbar label="Credits version">
        <SelectField label="Version" value={version} onValue={setVersion} options={options} />
      </Toolbar>
      <Loaded state={report}>
        {(r) => (
          <>
            {!r.sealed && (
              <p>
                <Badge tone="warning">Provisional</Badge> Version {r.version} is open: its contents and
                credits can still grow until it is sealed.
              </p>
            )}
            {r.seal && (
              <Facts
                items={[
                  ["Sealed", <Time iso={r.seal.sealedAt} />],
                  ["Sealed by", <ActorName id={r.seal.sealedBy} />],
                  ["Manifest root", <Id value={r.seal.manifestRoot} />],
                  ["Seal entry", `log index ${r.seal.index}`],
                ]}
              />
            )}
            <DataTable
              caption={`Credits for version ${r.version}`}
              testId="credits"
              rows={r.contributors}
              rowKey={(c) => c.actor}
              empty="No contributions in this version yet."
              columns={[
                {
                  header: "Contributor",
                  render: (c) => (
                    <>
                      {c.displayName ?? c.actor} <code class="id">{c.actor}</code>
                    </>
                  ),
                },
                { header: "Roles", render: (c) => c.roles.join(", ") || "—" },
                {
                  header: "Items",
                  render: (c) => (c.items === 0 ? "0" : `${c.items} (${counts(c.itemsByInstitution)})`),
                },
                {
                  header: "Annotations",
                  render: (c) =>
                    c.annotations === 0 ? "0" : `${c.annotations} (${counts(c.annotationsBySchema)})`,
                },
                {
                  header: "Vendor contributions",
                  render: (c) =>
                    c.vendorContributions === 0
                      ? "0"
                      : `${c.vendorContributions} (${counts(c.vendorContributionsByKind)})`,
                },
              ]}
            />
            <p>
              Totals: {r.totals.contributors} contributors, {r.totals.items} items, {r.totals.annotations}{" "}
              annotations, {r.totals.vendorContributions} vendor contributions.
            </p>
            <Toolbar label="Export credits">
              <Button
                onClick={() =>
                  saveBlob(
                    csvBlob(CREDIT_CSV_HEADER, creditRows(r)),
                    `credits-${r.dataset.id.slice(0, 16)}-v${r.version}.csv`,
                  )
                }
              >
                Download credits (CSV)
              </Button>
            </Toolbar>
            {log.data && <Citation text={citationText(r, log.data.origin)} />}
          </>
        )}
      </Loaded>
    </Section>
  );
}

/** The citation in a read-only field (selectable by hand too) and a button that copies it. */
function Citation(props: { text: string }) {
  const [copied, setCopied] = useState<"" | "copied" | "failed">("");
  return (
    <div class="citation">
      <div class="field">
        <label for="dataset-citation">Citation</label>
        <textarea id="dataset-citation" readOnly rows={4} value={props.text} />
      </div>
      <Button
        onClick={() => {
          // navigator.clipboard exists only in a secure context (https or loopback).
          const write =
            "clipboard" in navigator
              ? navigator.clipboard.writeText(props.text)
              : Promise.reject(new Error("no clipboard"));
          write
            .then(() => setCopied("copied"))
            .catch(() => {
              // No clipboard permission (or not a secure context): select it for Ctrl+C instead.
              const area = document.getElementById("dataset-citation") as HTMLTextAreaElement | null;
              area?.select();
              setCopied("failed");
            });
        }}
      >
        Copy citation
      </Button>{" "}
      <span role="status" class="hint">
        {copied === "copied" ? "Copied." : copied === "failed" ? "Selected: press Ctrl+C to copy." : ""}
      </span>
    </div>
  );
}
