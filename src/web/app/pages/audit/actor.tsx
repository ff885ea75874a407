/**
 * Accesses by one actor (/audit/actors/:id): who the person is (GET /api/v1/actors/:id) and every
 * access decision about them, newest first (GET /api/v1/actors/:id/access), with an outcome filter
 * and a CSV download. An id no actor was enrolled under is said so — its denied attempts, if any,
 * are still listed (the log records attempts by unenrolled ids too).
 */
import { useState } from "preact/hooks";
import { ApiError, saveBlob } from "../../api.js";
import { useApi, usePaged } from "../../hooks.js";
import { csvBlob } from "../../lib/csv.js";
import {
  Alert,
  Badge,
  Button,
  DataTable,
  Facts,
  More,
  Page,
  ProblemAlert,
  Section,
  SelectField,
} from "../../ui/index.js";
import type { Actor } from "../../session.js";
import { ACCESS_CSV_HEADER, accessColumns, accessCsvRow, type AccessRow } from "./access-table.js";
import { fetchAll } from "./fetch-all.js";

export function ActorAccesses(props: { id: string }) {
  const id = props.id;
  const path = `/api/v1/actors/${encodeURIComponent(id)}`;
  const actor = useApi<Actor>(path);
  const [decision, setDecision] = useState("");
  const query = decision ? { decision } : {};
  const list = usePaged<AccessRow>(`${path}/access`, query);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<ApiError | undefined>();

  const exportCsv = async () => {
    setExporting(true);
    setExportError(undefined);
    try {
      const { items } = await fetchAll(`${path}/access`, query);
      saveBlob(csvBlob(ACCESS_CSV_HEADER, items.map(accessCsvRow)), `accesses-${id}.csv`);
    } catch (e) {
      setExportError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));
    } finally {
      setExporting(false);
    }
  };

  return (
    <Page title={`Accesses by ${id}`} lead="Every access decision the gatekeeper recorded about this person.">
      <Section title="Who">
        {actor.error?.code === "RECORD_NOT_FOUND" ? (
          <Alert tone="warning" title="No such actor">
            No actor is enrolled as <code>{id}</code>. Attempts under this id, if any, are listed below.
          </Alert>
        ) : actor.error ? (
          <ProblemAlert error={actor.error} />
        ) : actor.data ? (
          <Facts
            items={[
              ["Name", actor.data.displayName ?? "—"],
              ["Id", <code>{actor.data.id}</code>],
              ["Kind", actor.data.kind],
              ["Roles", actor.data.roles.join(", ") || "—"],
              [
                "Status",
                <Badge tone={actor.data.status === "active" ? "success" : "warning"}>
                  {actor.data.status ?? "—"}
                </Badge>,
              ],
            ]}
          />
        ) : null}
      </Section>
      <Section
        title="Accesses"
        actions={
          <Button onClick={() => void exportCsv()} busy={exporting} disabled={list.error !== undefined}>
            Download CSV
          </Button>
        }
      >
        <div class="audit-filters">
          <SelectField
            label="Outcome"
            value={decision}
            onValue={setDecision}
            options={[
              { value: "", label: "permits and denies" },
              { value: "permit", label: "permit" },
              { value: "deny", label: "deny" },
            ]}
          />
        </div>
        <ProblemAlert error={list.error} />
        <ProblemAlert error={exportError} title="The download failed" />
        {!list.error && (
          <>
            <DataTable
              caption={`Access records of ${id}, newest first`}
              columns={accessColumns()}
              rows={list.items}
              rowKey={(a) => a.id}
              testId="actor-accesses"
              empty={
                list.loading
                  ? "Loading…"
                  : list.hasMore
                    ? "None in the records examined — load more to continue."
                    : "No access recorded for this actor."
              }
            />
            <More list={list} />
          </>
        )}
      </Section>
    </Page>
  );
}
