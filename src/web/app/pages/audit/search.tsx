/**
 * Access search (/audit): every access decision on the log — and every access another hospital
 * system reported (IHE ATNA; labelled, history-table.tsx) — narrowed by patient pseudonym, actor,
 * date range, purpose, outcome, part kind and origin (GET /api/v1/access, docs/api.md "Access filters and
 * the access search"), paged, with a CSV download of the whole result. A pseudonym this node does
 * not know is the node's 404 PATIENT_UNKNOWN, shown as "No such patient" — never an empty table,
 * which an auditor would read as "nobody looked".
 */
import { useState } from "preact/hooks";
import { ApiError, saveBlob, type Query } from "../../api.js";
import { usePaged } from "../../hooks.js";
import { csvBlob } from "../../lib/csv.js";
import {
  Alert,
  Button,
  DataTable,
  Form,
  More,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextField,
  Toolbar,
} from "../../ui/index.js";
import { PART_KINDS, PURPOSES } from "./access-table.js";
import { fetchAll } from "./fetch-all.js";
import { HISTORY_CSV_HEADER, historyColumns, historyCsvRow } from "./history-table.js";
import type { HistoryRow } from "../../lib/access.js";

interface Filters {
  patient: string;
  actor: string;
  from: string;
  to: string;
  purpose: string;
  decision: string;
  part: string;
  origin: string;
}

const EMPTY: Filters = {
  patient: "",
  actor: "",
  from: "",
  to: "",
  purpose: "",
  decision: "",
  part: "",
  origin: "",
};

/** A date (yyyy-mm-dd, UTC) as the API's canonical time; `to` is the day after (the API's bound is exclusive). */
function dayStart(date: string, plusDays = 0): string | undefined {
  if (date === "") return undefined;
  const d = new Date(`${date}T00:00:00.000Z`);
  if (Number.isNaN(d.getTime())) return undefined;
  d.setUTCDate(d.getUTCDate() + plusDays);
  return d.toISOString();
}

export function queryOf(f: Filters): Query {
  return {
    patient: f.patient.trim() || undefined,
    actor: f.actor.trim() || undefined,
    from: dayStart(f.from),
    to: dayStart(f.to, 1),
    purpose: f.purpose || undefined,
    decision: f.decision || undefined,
    part: f.part || undefined,
    origin: f.origin || undefined,
  };
}

export function AccessSearch() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [query, setQuery] = useState<Query | null>(null);
  const list = usePaged<HistoryRow>(query === null ? null : "/api/v1/access", query ?? undefined);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<ApiError | undefined>();
  const [exportNote, setExportNote] = useState<string | undefined>();
  const set = (k: keyof Filters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));

  const exportCsv = async () => {
    if (query === null) return;
    setExporting(true);
    setExportError(undefined);
    try {
      const { items, truncated } = await fetchAll("/api/v1/access", query);
      saveBlob(csvBlob(HISTORY_CSV_HEADER, (items as HistoryRow[]).map(historyCsvRow)), "access-search.csv");
      setExportNote(
        `${items.length} access record${items.length === 1 ? "" : "s"} saved${truncated ? " (the first ones only: narrow the search for the rest)" : ""}.`,
      );
    } catch (e) {
      setExportError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));
    } finally {
      setExporting(false);
    }
  };

  const unknown = list.error?.code === "PATIENT_UNKNOWN";
  return (
    <Page
      title="Access search"
      lead="Every decision the gatekeeper recorded — permits and denies — and every access another hospital system reported, by patient, person, time, purpose, part and origin."
    >
      <Section title="Search">
        <Form
          label="Access search"
          onSubmit={() => {
            // A new search: what was said about the last one's download no longer applies.
            setExportNote(undefined);
            setExportError(undefined);
            setQuery(queryOf(draft));
          }}
        >
          <div class="audit-filters">
            <TextField
              label="Patient pseudonym"
              hint="pt_… as the node shows it; blank for every patient"
              value={draft.patient}
              onValue={set("patient")}
              autocomplete="off"
            />
            <TextField
              label="Actor"
              hint="the accessing person's id, e.g. clin-er-1"
              value={draft.actor}
              onValue={set("actor")}
              autocomplete="off"
            />
            <TextField label="From (UTC date)" type="date" value={draft.from} onValue={set("from")} />
            <TextField label="To (UTC date, included)" type="date" value={draft.to} onValue={set("to")} />
            <SelectField
              label="Purpose"
              value={draft.purpose}
              onValue={set("purpose")}
              options={[
                { value: "", label: "any purpose" },
                ...Object.entries(PURPOSES).map(([value, label]) => ({
                  value,
                  label: `${value} — ${label}`,
                })),
              ]}
            />
            <SelectField
              label="Outcome"
              value={draft.decision}
              onValue={set("decision")}
              options={[
                { value: "", label: "permits and denies" },
                { value: "permit", label: "permit" },
                { value: "deny", label: "deny" },
              ]}
            />
            <SelectField
              label="Part"
              value={draft.part}
              onValue={set("part")}
              options={[{ value: "", label: "any part" }, ...PART_KINDS.map((k) => ({ value: k, label: k }))]}
            />
            <SelectField
              label="Origin"
              hint="decided by this node, or reported by another hospital system (IHE ATNA)"
              value={draft.origin}
              onValue={set("origin")}
              options={[
                { value: "", label: "decided and reported" },
                { value: "decided", label: "decided by this node" },
                { value: "reported", label: "reported by another system" },
              ]}
            />
          </div>
          <Toolbar label="Search actions">
            <Button type="submit" variant="primary" busy={list.loading && query !== null}>
              Search
            </Button>
            <Button
              onClick={() => {
                setDraft(EMPTY);
                setQuery(null);
              }}
            >
              Clear
            </Button>
          </Toolbar>
        </Form>
      </Section>
      {query !== null && (
        <Section
          title="Results"
          actions={
            <Button onClick={() => void exportCsv()} busy={exporting} disabled={list.error !== undefined}>
              Download CSV
            </Button>
          }
        >
          {unknown ? (
            <ProblemAlert error={list.error} title="No such patient" />
          ) : (
            <ProblemAlert error={list.error} />
          )}
          <ProblemAlert error={exportError} title="The download failed" />
          {exportNote && <Alert tone="success">{exportNote}</Alert>}
          {!list.error && (
            <>
              <DataTable
                caption="Access records, newest first"
                columns={historyColumns()}
                rows={list.items}
                rowKey={(a) => a.id}
                testId="access-results"
                empty={
                  list.loading
                    ? "Searching…"
                    : list.hasMore
                      ? "None yet in the records examined — load more to continue."
                      : "No access matches these filters."
                }
              />
              <More list={list} />
            </>
          )}
        </Section>
      )}
    </Page>
  );
}
