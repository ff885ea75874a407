/**
 * AI recall (/audit/ai-recall): pick a model version by vendor, model and version from the
 * registered ones (GET /api/v1/ai/models) and list every report, study and patient it touched and
 * how many times it was used (GET /api/v1/ai/models/:id/recall) — what a vendor's safety notice
 * needs — with a CSV download (lib/csv.ts: RFC 4180, formula-injection safe). Patients appear by
 * pseudonym only.
 */
import { useMemo, useState } from "preact/hooks";
import { saveBlob } from "../../api.js";
import { useApi } from "../../hooks.js";
import { csvBlob, type Cell } from "../../lib/csv.js";
import {
  Badge,
  Button,
  DataTable,
  Facts,
  Form,
  Id,
  Loaded,
  Page,
  Section,
  SelectField,
  Toolbar,
} from "../../ui/index.js";

interface Model {
  readonly id: string;
  readonly vendor: string;
  readonly name: string;
  readonly version: string;
  readonly status?: string;
}

interface Recall {
  readonly model: Model;
  readonly reports: string[];
  readonly studies: string[];
  readonly patients: string[];
  readonly uses: number;
}

const uniq = (xs: string[]) => [...new Set(xs)];

export const RECALL_CSV_HEADER = ["vendor", "model", "version", "model id", "record", "id"] as const;

export function recallCsvRows(r: Recall): Cell[][] {
  const m = r.model;
  const row = (kind: string, id: string): Cell[] => [m.vendor, m.name, m.version, m.id, kind, id];
  return [
    ...r.reports.map((id) => row("report", id)),
    ...r.studies.map((id) => row("study", id)),
    ...r.patients.map((id) => row("patient", id)),
  ];
}

function IdList(props: { caption: string; ids: string[]; testId: string; empty: string }) {
  return (
    <DataTable
      caption={props.caption}
      columns={[{ header: "Id", render: (id: string) => <Id value={id} full /> }]}
      rows={props.ids}
      rowKey={(id) => id}
      testId={props.testId}
      empty={props.empty}
    />
  );
}

function RecallForm(props: { models: Model[] }) {
  const models = props.models;
  const [vendor, setVendor] = useState(models[0]?.vendor ?? "");
  const names = useMemo(
    () => uniq(models.filter((m) => m.vendor === vendor).map((m) => m.name)),
    [models, vendor],
  );
  const [name, setName] = useState(names[0] ?? "");
  const versions = models.filter((m) => m.vendor === vendor && m.name === name);
  const [version, setVersion] = useState(versions[0]?.version ?? "");
  const picked = versions.find((m) => m.version === version);
  const [chosen, setChosen] = useState<string | null>(null);
  const recall = useApi<Recall>(chosen === null ? null : `/api/v1/ai/models/${chosen}/recall`);

  const pickVendor = (v: string) => {
    setVendor(v);
    const n = models.find((m) => m.vendor === v)?.name ?? "";
    setName(n);
    setVersion(models.find((m) => m.vendor === v && m.name === n)?.version ?? "");
  };
  const pickName = (n: string) => {
    setName(n);
    setVersion(models.find((m) => m.vendor === vendor && m.name === n)?.version ?? "");
  };

  return (
    <>
      <Section title="Model version">
        <Form label="AI recall" onSubmit={() => picked && setChosen(picked.id)}>
          <div class="audit-filters">
            <SelectField
              label="Vendor"
              value={vendor}
              onValue={pickVendor}
              options={uniq(models.map((m) => m.vendor)).map((v) => ({ value: v, label: v }))}
            />
            <SelectField
              label="Model"
              value={name}
              onValue={pickName}
              options={names.map((n) => ({ value: n, label: n }))}
            />
            <SelectField
              label="Version"
              value={version}
              onValue={setVersion}
              options={versions.map((m) => ({
                value: m.version,
                label: m.status && m.status !== "active" ? `${m.version} (${m.status})` : m.version,
              }))}
            />
          </div>
          <Toolbar label="Recall actions">
            <Button type="submit" variant="primary" disabled={!picked} busy={recall.loading}>
              Run recall
            </Button>
          </Toolbar>
        </Form>
      </Section>
      {chosen !== null && (
        <Loaded state={recall}>
          {(r) => (
            <Section
              title={`Recall: ${r.model.vendor} ${r.model.name} ${r.model.version}`}
              actions={
                <Button
                  onClick={() =>
                    saveBlob(
                      csvBlob(RECALL_CSV_HEADER, recallCsvRows(r)),
                      `ai-recall-${r.model.name}-${r.model.version}.csv`.replace(/[^\w.-]+/g, "_"),
                    )
                  }
                >
                  Download CSV
                </Button>
              }
            >
              <Facts
                items={[
                  ["Model version", <Id value={r.model.id} />],
                  [
                    "Status",
                    <Badge tone={r.model.status === "active" ? "ai" : "warning"}>
                      {r.model.status ?? "—"}
                    </Badge>,
                  ],
                  ["Uses", <strong data-testid="recall-uses">{r.uses}</strong>],
                  ["Reports", r.reports.length],
                  ["Studies", r.studies.length],
                  ["Patients", r.patients.length],
                ]}
              />
              <h3>Reports</h3>
              <IdList
                caption="Reports that used this model version"
                ids={r.reports}
                testId="recall-reports"
                empty="No report used it."
              />
              <h3>Studies</h3>
              <IdList
                caption="Studies this model version read"
                ids={r.studies}
                testId="recall-studies"
                empty="No study."
              />
              <h3>Patients</h3>
              <IdList
                caption="Patients (pseudonyms) touched by this model version"
                ids={r.patients}
                testId="recall-patients"
                empty="No patient."
              />
            </Section>
          )}
        </Loaded>
      )}
    </>
  );
}

export function AiRecall() {
  const models = useApi<{ items: Model[] }>("/api/v1/ai/models", { limit: 1000 });
  return (
    <Page
      title="AI recall"
      lead="Everything a model version touched: the reports it contributed to, the studies it read, the patients concerned."
    >
      <Loaded state={models}>
        {(m) =>
          m.items.length === 0 ? (
            <p class="empty">No AI model is registered on this log.</p>
          ) : (
            <RecallForm models={m.items} />
          )
        }
      </Loaded>
    </Page>
  );
}
