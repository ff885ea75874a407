/**
 * The Datasets area (docs/web.md "Datasets"), for curators, annotators, researchers, vendors (and
 * admins, auditors): the datasets of this log and one dataset with its versions, credits, contents
 * and shares. Curators and admins also seal the open version and share sealed ones; everyone else
 * sees the same pages read-only (the node refuses them anyway: ROLE_NOT_PERMITTED, FORBIDDEN_ROLE).
 */
import { Link, Route, Switch } from "wouter-preact";
import { useApi, usePaged } from "../../hooks.js";
import { hasAnyRole, useActor } from "../../session.js";
import { ActorName } from "../../ui/actor-name.js";
import { DownloadButton } from "../../ui/download-button.js";
import {
  DataTable,
  Facts,
  Id,
  Loaded,
  Loading,
  More,
  Page,
  ProblemAlert,
  Section,
  Time,
} from "../../ui/index.js";
import { Contents } from "./contents.js";
import { Credits } from "./credits.js";
import { SealVersion } from "./seal.js";
import { ShareVersion } from "./share.js";
import type { Dataset, DatasetItem, DatasetShare } from "./types.js";

/** Roles that may sign dataset.version.sealed and dataset.shared (docs/families/datasets.md). */
export const CURATORS = ["curator", "admin"] as const;

export default function DatasetsArea() {
  return (
    <Switch>
      <Route path="/">
        <DatasetList />
      </Route>
      <Route path="/:id">{(p: { id: string }) => <DatasetPage id={p.id} />}</Route>
    </Switch>
  );
}

const bundleName = (id: string, version: number): string =>
  `dataset-${id.slice(0, 16)}-v${version}.radledger.tar`;

function DatasetList() {
  const list = usePaged<Dataset>("/api/v1/datasets");
  return (
    <Page
      title="Datasets"
      lead="De-identified datasets: their sealed versions, who contributed what, and who they were shared with."
    >
      <ProblemAlert error={list.error} />
      <Section title="Datasets">
        {list.loading && list.items.length === 0 ? (
          <Loading />
        ) : (
          <DataTable
            caption="Datasets"
            testId="datasets"
            rows={list.items}
            rowKey={(d) => d.id}
            empty="No dataset in this log yet."
            columns={[
              { header: "Name", render: (d) => <Link href={`/${d.id}`}>{d.name}</Link> },
              { header: "Purpose", render: (d) => d.purpose ?? "—" },
              {
                header: "Versions",
                render: (d) =>
                  d.versions.length === 0
                    ? "none sealed"
                    : `${d.versions.length} sealed (latest ${d.versions.at(-1)!.version})`,
              },
              { header: "Items", render: (d) => d.items },
              { header: "Annotations", render: (d) => d.annotations },
              { header: "Vendor contributions", render: (d) => d.vendorContributions },
              { header: "Created", render: (d) => <Time iso={d.createdAt} /> },
            ]}
          />
        )}
        <More list={list} />
      </Section>
    </Page>
  );
}

function DatasetPage(props: { id: string }) {
  const actor = useActor();
  const curator = hasAnyRole(actor, CURATORS);
  const dataset = useApi<Dataset>(`/api/v1/datasets/${props.id}`);
  const items = usePaged<DatasetItem>(`/api/v1/datasets/${props.id}/items`);
  const shares = usePaged<DatasetShare>(`/api/v1/datasets/${props.id}/shares`);
  const log = useApi<{ origin: string }>("/api/v1/log");
  const d = dataset.data;
  const latest = d?.versions.at(-1);
  // Institutions this dataset already knows (item sources, earlier grantees), this node's own aside.
  const institutions = [
    ...new Set([...items.items.map((i) => i.sourceInstitution), ...shares.items.map((s) => s.grantee)]),
  ].filter((i) => i !== log.data?.origin);
  return (
    <Page
      title={d ? `Dataset ${d.name}` : "Dataset"}
      lead={d ? `Version ${d.openVersion} open · ${d.versions.length} sealed` : undefined}
      actions={
        latest && (
          <DownloadButton
            path={`/api/v1/bundles/dataset/${props.id}`}
            query={{ version: latest.version }}
            filename={bundleName(props.id, latest.version)}
          >
            Download bundle (version {latest.version})
          </DownloadButton>
        )
      }
    >
      <p>
        <Link href="/">All datasets</Link>
      </p>
      <Loaded state={dataset}>
        {(d) => (
          <>
            <Section title="About">
              <Facts
                items={[
                  ["Purpose", d.purpose ?? "—"],
                  ["Created by", <ActorName id={d.createdBy} />],
                  ["Created", <Time iso={d.createdAt} />],
                  ["Open version", d.openVersion],
                  ["Items", d.items],
                  ["Annotations", d.annotations],
                  ["Vendor contributions", d.vendorContributions],
                  ["Dataset id", <Id value={d.id} />],
                ]}
              />
            </Section>
            {curator && (
              <>
                <SealVersion dataset={d} onSealed={() => dataset.reload()} />
                <ShareVersion dataset={d} institutions={institutions} onShared={() => shares.reload()} />
              </>
            )}
            <Section title="Versions">
              <DataTable
                caption="Sealed versions"
                testId="versions"
                rows={d.versions}
                rowKey={(v) => v.seal}
                empty={`No version is sealed yet; version ${d.openVersion} is open.`}
                columns={[
                  { header: "Version", render: (v) => v.version },
                  { header: "Sealed", render: (v) => <Time iso={v.sealedAt} /> },
                  { header: "Items", render: (v) => v.items },
                  { header: "Annotations", render: (v) => v.annotations },
                  { header: "Contributors", render: (v) => v.contributors },
                  { header: "Manifest root", render: (v) => <Id value={v.manifestRoot} /> },
                  {
                    header: "Bundle",
                    render: (v) => (
                      <DownloadButton
                        path={`/api/v1/bundles/dataset/${d.id}`}
                        query={{ version: v.version }}
                        filename={bundleName(d.id, v.version)}
                      >
                        Bundle v{v.version}
                      </DownloadButton>
                    ),
                  },
                ]}
              />
            </Section>
            <Credits key={`${d.id}:${d.versions.length}`} dataset={d} />
            <Section title="Shares">
              <ProblemAlert error={shares.error} />
              <DataTable
                caption="Shares of sealed versions"
                testId="shares"
                rows={shares.items}
                rowKey={(s) => s.id}
                empty="Not shared with any institution."
                columns={[
                  { header: "Version", render: (s) => s.version },
                  { header: "Institution", render: (s) => s.grantee },
                  { header: "Purpose", render: (s) => s.purpose ?? "—" },
                  { header: "Expires", render: (s) => (s.expires ? <Time iso={s.expires} /> : "never") },
                  { header: "Data-use agreement", render: (s) => <Id value={s.dataUseAgreement} /> },
                  { header: "Shared by", render: (s) => <ActorName id={s.sharedBy} /> },
                  { header: "Shared", render: (s) => <Time iso={s.sharedAt} /> },
                ]}
              />
              <More list={shares} />
            </Section>
            <Contents dataset={d} items={items} />
          </>
        )}
      </Loaded>
    </Page>
  );
}
