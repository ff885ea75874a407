/**
 * Sealing the open version (curators and admins): the page fetches the body the node derives from
 * the log (GET /api/v1/datasets/:id/seal-proposal — manifest root over every item and annotation,
 * counts, contributors), shows it, and on confirmation appends it as `dataset.version.sealed`
 * (POST /api/v1/entries/dataset.version.sealed, signed with the curator's held key). The ledger
 * re-derives and checks every member (DATASET_ROOT_MISMATCH, DATASET_CONTRIB_MISMATCH,
 * DATASET_VERSION_NOT_OPEN, DATASET_VERSION_EMPTY: docs/families/datasets.md "Rules"); a refusal is
 * shown with its code. A seal is permanent, hence the explicit confirmation step.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError } from "../../api.js";
import { useApi } from "../../hooks.js";
import { ActorName } from "../../ui/actor-name.js";
import { Alert, Button, Facts, Id, Loaded, ProblemAlert, Section, Toolbar } from "../../ui/index.js";
import type { Appended, CreditReport, Dataset, SealProposal } from "./types.js";

export function SealVersion(props: { dataset: Dataset; onSealed: () => void }) {
  const d = props.dataset;
  const proposal = useApi<SealProposal>(`/api/v1/datasets/${d.id}/seal-proposal`);
  const last = d.versions.at(-1);
  const lastVersion = last?.version ?? 0;
  // Whether anything was added since the last seal: the cumulative counts of the open version
  // against the last sealed one's (vendor contributions are counted only in credit reports).
  const lastCredits = useApi<CreditReport>(last ? `/api/v1/datasets/${d.id}/credits` : null, {
    version: last?.version,
  });
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<{ version: number; entry: Appended }>();
  const confirmRef = useRef<HTMLDivElement>(null);

  const sealRef = useRef<HTMLDivElement>(null);
  const wasConfirming = useRef(false);
  useEffect(() => {
    // Keyboard users land on the confirmation they have to answer, and back on the seal button
    // when they cancel it (WCAG 2.4.3 focus order: focus is never dropped to the page's start).
    if (confirming) confirmRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
    else if (wasConfirming.current) sealRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  const nothingNew =
    (last === undefined && d.items + d.annotations + d.vendorContributions === 0) ||
    (last !== undefined &&
      lastCredits.data !== undefined &&
      d.items === lastCredits.data.totals.items &&
      d.annotations === lastCredits.data.totals.annotations &&
      d.vendorContributions === lastCredits.data.totals.vendorContributions);

  function seal(p: SealProposal): void {
    setBusy(true);
    setError(undefined);
    api<Appended>("/api/v1/entries/dataset.version.sealed", {
      method: "POST",
      body: { body: p, refs: { dataset: d.id } },
    })
      .then((entry) => {
        setDone({ version: p.version, entry });
        setConfirming(false);
        proposal.reload();
        props.onSealed();
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
      .finally(() => setBusy(false));
  }

  return (
    <Section title={`Seal version ${d.openVersion}`}>
      {done && (
        <Alert tone="success" title={`Version ${done.version} sealed`} testId="sealed">
          On the log at index {done.entry.index}, entry <Id value={done.entry.leafHash} />. Version{" "}
          {done.version + 1} is open now.
        </Alert>
      )}
      <ProblemAlert error={error} title="The node refused the seal" />
      <Loaded state={proposal}>
        {(p) =>
          nothingNew ? (
            <p>
              {lastVersion === 0
                ? "Nothing was added yet: there is nothing to seal."
                : `Nothing was added since version ${lastVersion}: there is nothing to seal yet.`}
            </p>
          ) : (
            <>
              <p>
                Sealing fixes version {p.version} for good: its manifest root over every item and annotation,
                and its contributors, signed with your key. Later additions go into version {p.version + 1}.
              </p>
              <Facts
                items={[
                  ["Version", p.version],
                  ["Items", p.items],
                  ["Annotations", p.annotations],
                  ["Manifest root", <Id value={p.manifestRoot} />],
                  [
                    "Contributors",
                    <ul class="plain">
                      {p.contributors.map((c) => (
                        <li key={c}>
                          <ActorName id={c} />
                        </li>
                      ))}
                    </ul>,
                  ],
                ]}
              />
              {confirming ? (
                <div ref={confirmRef}>
                  <Alert tone="warning" title={`Seal version ${p.version} for good?`}>
                    A seal is permanent: nothing can be added to a sealed version afterwards.
                  </Alert>
                  <Toolbar label="Confirm the seal">
                    <Button variant="primary" busy={busy} onClick={() => seal(p)}>
                      Confirm: seal version {p.version}
                    </Button>
                    <Button variant="ghost" onClick={() => setConfirming(false)}>
                      Cancel
                    </Button>
                  </Toolbar>
                </div>
              ) : (
                <div ref={sealRef}>
                  <Button variant="primary" onClick={() => setConfirming(true)}>
                    Seal version {p.version}
                  </Button>
                </div>
              )}
            </>
          )
        }
      </Loaded>
    </Section>
  );
}
