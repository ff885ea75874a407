/**
 * The auditor's access search lists decided and reported accesses (GET /api/v1/access, issue 21
 * §2): a decided row as access-table.tsx shows it; a reported one — an IHE ATNA audit message
 * another hospital system sent — labelled "Reported by <system> — the node did not decide this
 * access", with the transport's authenticity (docs/audit.md), the participants' user ids in that
 * system, the event, and how it ended. The CSV says the same, one origin column more.
 */
import { Link } from "wouter-preact";
import {
  authenticityText,
  isReported,
  OUTCOME_WORDS,
  reportedLabel,
  reportedWhat,
  reportedWho,
  type HistoryRow,
  type ReportedRow,
} from "../../lib/access.js";
import type { Cell } from "../../lib/csv.js";
import { Badge, type Column, Id, Time } from "../../ui/index.js";
import { ACCESS_CSV_HEADER, accessColumns, accessCsvRow } from "./access-table.js";

export const HISTORY_CSV_HEADER = [...ACCESS_CSV_HEADER, "origin", "reported by", "transport"] as const;

export function historyCsvRow(a: HistoryRow): Cell[] {
  if (!isReported(a)) return [...accessCsvRow(a), "decided", "", ""];
  const purposes = (a.event.purposes ?? []).map((p) => p.code).join(" ");
  return [
    a.time,
    reportedWho(a),
    "",
    a.patient,
    reportedWhat(a),
    a.studies.map((s) => s.study ?? s.key).join(" "),
    a.event.id.code,
    purposes,
    "",
    a.outcome,
    "",
    a.id,
    a.index,
    "reported",
    a.reportedBy.actor,
    a.transport,
  ];
}

/** The reported row's cells, by column header; a decided row keeps access-table.tsx's. */
const REPORTED: Readonly<Record<string, (r: ReportedRow) => preact.ComponentChildren>> = {
  Who: (r) => (
    <span>
      {reportedWho(r)}
      <span class="audit-sub">
        in <Link href={`/actors/${encodeURIComponent(r.reportedBy.actor)}`}>{r.reportedBy.actor}</Link>
      </span>
    </span>
  ),
  Patient: (r) => <Id value={r.patient} />,
  When: (r) => (
    <span>
      <Time iso={r.time} />
      <span class="audit-sub">
        recorded <Time iso={r.recordedAt} />
      </span>
    </span>
  ),
  Part: (r) => reportedWhat(r),
  Purpose: (r) => (r.event.purposes ?? []).map((p) => p.code).join(", ") || "—",
  Basis: (r) => (
    <span class="audit-reported">
      <Badge tone="info">{reportedLabel(r)}</Badge>
      <span class="audit-sub">{authenticityText(r)}</span>
    </span>
  ),
  Outcome: (r) =>
    r.outcome === "success" ? (
      <Badge tone="success">{OUTCOME_WORDS.success}</Badge>
    ) : (
      <Badge tone="danger">{OUTCOME_WORDS[r.outcome] ?? r.outcome}</Badge>
    ),
};

export function historyColumns(): Column<HistoryRow>[] {
  return accessColumns().map((c) => ({
    ...c,
    render: (a: HistoryRow) => {
      if (!isReported(a)) return c.render(a);
      const cell = REPORTED[c.header];
      return cell ? cell(a) : "—";
    },
  }));
}
