/**
 * "Who looked at my record": every access decision about the patient's record, newest first —
 * who (name, role), when, which part, why, on what basis — denied attempts too, with filters by
 * date, person, part and outcome (GET /api/v1/patients/:patient/access, filtered by the node), and
 * the downloads: the verifiable access-history bundle and the FHIR export of the record.
 *
 * Accesses another hospital system reported (the PACS, the RIS: IHE ATNA audit messages) are in
 * the same list, each labelled "Reported by <system> — the node did not decide this access" with how
 * far that system is authenticated (issue 21 §2). The patient's own views are recorded too; they
 * are left out (excludeActor) unless "Include my own views" is ticked.
 */
import { useState } from "preact/hooks";
import { usePaged } from "../../hooks.js";
import { useActor } from "../../session.js";
import { DownloadButton } from "../../ui/download-button.js";
import {
  Badge,
  DataTable,
  More,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextField,
  Time,
  Toolbar,
} from "../../ui/index.js";
import {
  authenticityText,
  isReported,
  OUTCOME_WORDS,
  PART_KINDS,
  PURPOSES,
  partText,
  reportedLabel,
  reportedWhat,
  reportedWho,
  reportedWhy,
  type AccessRow,
  type HistoryRow,
  type ReportedRow,
} from "../../lib/access.js";

const BASIS: Readonly<Record<string, string>> = {
  patient: "you",
  consent: "your grant",
  care: "care relationship",
  // A staff member's role (metadata only: lists, report and study records, never the text).
  role: "their role (records, not text)",
  "break-glass": "emergency access (break-glass)",
};

type Row = HistoryRow & { who?: { roles?: readonly string[] } };

/** A reported access's basis cell: whose statement it is, how authentic, how it ended. */
function ReportedBasis(props: { r: ReportedRow }) {
  const r = props.r;
  return (
    <span class="patient-reported">
      <Badge tone="info">{reportedLabel(r)}</Badge>
      <span class="patient-sub">
        {r.outcome === "success" ? "" : `${OUTCOME_WORDS[r.outcome] ?? r.outcome}; `}
        {authenticityText(r)}; recorded <Time iso={r.recordedAt} />
      </span>
    </span>
  );
}

function whoOf(a: AccessRow & { who: { roles?: readonly string[] } }): string {
  const name = a.who.displayName ?? a.who.actor;
  const roles = a.who.roles?.filter((r) => r !== "patient") ?? [];
  return roles.length ? `${name} (${roles.join(", ")})` : name;
}

/** A date field's day as the start or end of that day in UTC, RFC 3339. */
const dayStart = (d: string): string | undefined => (d ? `${d}T00:00:00Z` : undefined);
const dayEnd = (d: string): string | undefined => (d ? `${d}T23:59:59Z` : undefined);

export function AccessPage() {
  const me = useActor();
  const patient = me.patient ?? "";
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [person, setPerson] = useState("");
  const [part, setPart] = useState("");
  const [decision, setDecision] = useState("");
  const [own, setOwn] = useState(false);
  const list = usePaged<Row>(patient ? `/api/v1/patients/${encodeURIComponent(patient)}/access` : null, {
    from: dayStart(from),
    to: dayEnd(to),
    actor: person.trim() || undefined,
    part: part || undefined,
    decision: decision || undefined,
    // Every read is recorded, the patient's own too; off by default they are left out.
    excludeActor: own ? undefined : me.id,
  });
  return (
    <Page
      title="Who looked at my record"
      lead="Every time someone opened or tried to open part of your imaging record: who, when, what, why and on what basis. The hospital cannot hide or change these records: each is an entry on a log others check."
    >
      <Section title="Filters">
        <Toolbar label="Filter accesses">
          <TextField label="From" type="date" value={from} onValue={setFrom} />
          <TextField label="To" type="date" value={to} onValue={setTo} />
          <TextField label="Person (account id)" value={person} onValue={setPerson} />
          <SelectField
            label="Part"
            value={part}
            onValue={setPart}
            options={[
              { value: "", label: "any part" },
              ...PART_KINDS.map((k) => ({ value: k, label: k.replace("-", " ") })),
            ]}
          />
          <SelectField
            label="Outcome"
            value={decision}
            onValue={setDecision}
            options={[
              { value: "", label: "allowed and refused" },
              { value: "permit", label: "allowed" },
              { value: "deny", label: "refused" },
            ]}
          />
          <label class="patient-check">
            <input
              type="checkbox"
              checked={own}
              onChange={(e) => setOwn((e.target as HTMLInputElement).checked)}
            />{" "}
            Include my own views
          </label>
        </Toolbar>
      </Section>
      <Section title="Accesses">
        <ProblemAlert error={list.error} />
        <DataTable
          caption="Accesses to my record"
          testId="accesses"
          columns={[
            { header: "When", render: (a) => <Time iso={a.time} /> },
            { header: "Who", render: (a) => (isReported(a) ? reportedWho(a) : whoOf(a)) },
            {
              header: "What",
              render: (a) => (isReported(a) ? reportedWhat(a) : `${a.action} ${partText(a)}`),
            },
            {
              header: "Why",
              render: (a) => (isReported(a) ? reportedWhy(a) : (PURPOSES[a.purpose] ?? a.purpose)),
            },
            {
              header: "Basis",
              render: (a) =>
                isReported(a) ? (
                  <ReportedBasis r={a} />
                ) : a.decision === "deny" ? (
                  <Badge tone="danger">refused{a.reason ? `: ${a.reason}` : ""}</Badge>
                ) : (
                  <Badge tone={a.basis?.kind === "break-glass" ? "warning" : "success"}>
                    {BASIS[a.basis?.kind ?? ""] ?? a.basis?.kind ?? "allowed"}
                  </Badge>
                ),
            },
          ]}
          rows={list.items}
          rowKey={(a) => a.id}
          empty={list.loading ? "Loading…" : "No access matches these filters."}
        />
        <More list={list} />
      </Section>
      <Section title="Take your record home">
        <p>
          The access-history bundle holds these records with their proofs: anyone can check it with the
          verifier, without trusting this hospital. The FHIR export is your record's provenance, consent and
          audit events in the standard health-data format.
        </p>
        <div class="actions">
          <DownloadButton
            path={`/api/v1/bundles/access/${encodeURIComponent(patient)}`}
            filename="my-access-history.radledger.tar"
          >
            Download access-history bundle
          </DownloadButton>
          <DownloadButton path="/api/v1/fhir" query={{ patient }} filename="my-record.fhir.json">
            Download FHIR export
          </DownloadButton>
        </div>
      </Section>
    </Page>
  );
}
