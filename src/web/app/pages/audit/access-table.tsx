/**
 * One access record as the auditor's lists show it (GET /api/v1/access, /actors/:id/access,
 * /access/break-glass: docs/families/access.md "Projection and queries"): who, which patient (by
 * pseudonym — the node holds no name for an auditor), when, which part, why, on what basis, and
 * the outcome. The same columns make the table and the CSV, so a download says what the page said.
 */
import { Link } from "wouter-preact";
import { PURPOSES, type AccessRow } from "../../lib/access.js";
import type { Cell } from "../../lib/csv.js";
import { Badge, type Column, Id, Time } from "../../ui/index.js";

// The access vocabulary is shared with the patient's pages (lib/access.ts).
export { PART_KINDS, partText, PURPOSES, type AccessRow } from "../../lib/access.js";

export function whoText(a: AccessRow): string {
  return a.who.displayName ? `${a.who.displayName} (${a.who.actor})` : a.who.actor;
}

export function basisText(a: AccessRow): string {
  if (a.decision === "deny") return "";
  if (!a.basis) return "";
  return a.basis.reason ? `${a.basis.kind}: ${a.basis.reason}` : a.basis.kind;
}

export function outcomeText(a: AccessRow): string {
  return a.decision === "deny" ? `deny: ${a.reason ?? "unspecified"}` : "permit";
}

export function reviewText(a: AccessRow): string {
  if (!a.review) return "";
  return a.review.open ? "awaiting review" : `reviewed: ${a.review.outcome ?? ""}`;
}

export const ACCESS_CSV_HEADER = [
  "time",
  "actor",
  "actor name",
  "patient",
  "part",
  "part id",
  "action",
  "purpose",
  "basis",
  "outcome",
  "review",
  "access id",
  "log index",
] as const;

export function accessCsvRow(a: AccessRow): Cell[] {
  return [
    a.time,
    a.who.actor,
    a.who.displayName,
    a.patient,
    a.part.section ? `${a.part.kind} ${a.part.section}` : a.part.kind,
    a.part.id,
    a.action,
    a.purpose,
    basisText(a),
    outcomeText(a),
    reviewText(a),
    a.id,
    a.index,
  ];
}

export function Outcome(props: { a: AccessRow }) {
  const a = props.a;
  if (a.decision === "deny") return <Badge tone="danger">deny{a.reason ? `: ${a.reason}` : ""}</Badge>;
  return <Badge tone="success">permit</Badge>;
}

export function Basis(props: { a: AccessRow }) {
  const a = props.a;
  if (!a.basis) return <span>—</span>;
  const bg = a.basis.kind === "break-glass";
  return (
    <span>
      <Badge tone={bg ? "warning" : "neutral"}>{a.basis.kind}</Badge>
      {a.basis.reason && <span class="audit-sub">{a.basis.reason}</span>}
      {a.review && (
        <span class="audit-sub">{a.review.open ? "awaiting review" : `reviewed: ${a.review.outcome}`}</span>
      )}
    </span>
  );
}

/** The table's columns; `withPatient` false on a list that is about one patient already. */
export function accessColumns(): Column<AccessRow>[] {
  return [
    {
      header: "Who",
      render: (a) => (
        <Link href={`/actors/${encodeURIComponent(a.who.actor)}`}>
          {a.who.displayName ?? a.who.actor}
          {a.who.displayName && <span class="audit-sub">{a.who.actor}</span>}
        </Link>
      ),
    },
    { header: "Patient", render: (a) => <Id value={a.patient} /> },
    { header: "When", render: (a) => <Time iso={a.time} /> },
    {
      header: "Part",
      render: (a) => (
        <span>
          {a.part.kind}
          {a.part.section && ` ${a.part.section}`}
          {a.part.id && (
            <span class="audit-sub">
              <Id value={a.part.id} />
            </span>
          )}
        </span>
      ),
    },
    {
      header: "Purpose",
      render: (a) => <abbr title={PURPOSES[a.purpose] ?? a.purpose}>{a.purpose}</abbr>,
    },
    { header: "Basis", render: (a) => <Basis a={a} /> },
    { header: "Outcome", render: (a) => <Outcome a={a} /> },
  ];
}
