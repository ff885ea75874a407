/**
 * The break-glass queue (/audit/break-glass): permits given under break-glass that no auditor has
 * reviewed yet, oldest first, each with the requester's justification read back from the vault
 * (GET /api/v1/access/break-glass). Review closes one: the note, free text, goes to the patient's
 * vault (POST /api/v1/vault) and only its commitment onto the log, in the auditor's own signed
 * access.reviewed entry (POST /api/v1/entries/access.reviewed; docs/families/access.md "Review").
 * The node refuses a self-review and a second review with their codes, which the form shows.
 *
 * The queue comes a page at a time (QUEUE_PAGE items, then "Load more"): each item is a full
 * review form, and drawing a hundred of them took most of the page's time at the issue-20 scale
 * (docs/performance.md "Web app pages"). The rest stays one click away, oldest first as before.
 */
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api, ApiError } from "../../api.js";
import { usePaged } from "../../hooks.js";
import { useActor } from "../../session.js";
import {
  Alert,
  Badge,
  Button,
  Facts,
  Form,
  Id,
  Loading,
  More,
  Page,
  ProblemAlert,
  Section,
  TextAreaField,
  Time,
} from "../../ui/index.js";
import { PURPOSES, type AccessRow } from "./access-table.js";
import { RadioGroup } from "./radio.js";

/** Queue items per page: enough for a review session, small enough to draw at once. */
const QUEUE_PAGE = 20;

const OUTCOMES = [
  { value: "justified", label: "Justified", hint: "the emergency warranted the access" },
  { value: "unjustified", label: "Unjustified", hint: "it did not: follow up with the person" },
  { value: "escalated", label: "Escalated", hint: "handed on (privacy officer); continues off the log" },
] as const;

interface Reviewed {
  readonly access: string;
  readonly outcome: string;
  readonly index: number;
}

function ReviewForm(props: { item: AccessRow; onDone: (r: Reviewed) => void }) {
  const { item } = props;
  const [outcome, setOutcome] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [missing, setMissing] = useState(false);

  const submit = async () => {
    if (outcome === "") {
      setMissing(true);
      return;
    }
    setMissing(false);
    setBusy(true);
    setError(undefined);
    try {
      // Free text never goes on the log: the vault keeps it, the entry cites its commitment.
      let noteCommitment: string | undefined;
      if (note.trim() !== "") {
        const stored = await api<{ commitment: string }>("/api/v1/vault", {
          method: "POST",
          body: { patient: item.patient, content: { note: note.trim() } },
        });
        noteCommitment = stored.commitment;
      }
      const res = await api<{ index: number }>("/api/v1/entries/access.reviewed", {
        method: "POST",
        body: { body: { outcome, ...(noteCommitment ? { noteCommitment } : {}) }, refs: { access: item.id } },
      });
      props.onDone({ access: item.id, outcome, index: res.index });
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));
      setBusy(false);
    }
  };

  return (
    <Form label={`Review of the access by ${item.who.actor}`} onSubmit={() => void submit()}>
      <RadioGroup legend="Outcome" name="outcome" value={outcome} onValue={setOutcome} options={OUTCOMES} />
      {missing && (
        <p class="field-error" role="alert">
          Choose an outcome.
        </p>
      )}
      <TextAreaField
        label="Note (optional)"
        hint="Kept in the patient's vault; only its commitment goes on the log."
        value={note}
        onValue={setNote}
        rows={3}
        maxLength={2000}
      />
      <ProblemAlert error={error} title="The review was refused" />
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Record review
        </Button>
      </div>
    </Form>
  );
}

export function BreakGlassQueue() {
  // The queue and its reviews are the auditors' (the API: auditor only, and access.reviewed is
  // signed by auditors); an admin in this area is told so instead of shown a refusal.
  const auditor = useActor().roles.includes("auditor");
  const list = usePaged<AccessRow>(auditor ? "/api/v1/access/break-glass" : null, undefined, QUEUE_PAGE);
  const [done, setDone] = useState<Reviewed | undefined>();
  if (!auditor)
    return (
      <Page title="Break-glass review">
        <Alert tone="warning" title="For auditors">
          Break-glass accesses are reviewed by auditors, not by the administrators who run the node.
        </Alert>
      </Page>
    );
  return (
    <Page
      title="Break-glass review"
      lead="Emergency accesses given without consent or care relationship, oldest first. Each stays here until an auditor reviews it."
    >
      {done && (
        <Alert tone="success" title="Review recorded" testId="review-done">
          {done.outcome} — on the log at index {done.index}. The access has left the queue.
        </Alert>
      )}
      <ProblemAlert error={list.error} />
      {list.loading && list.items.length === 0 && <Loading label="Loading the queue…" />}
      {!list.loading && !list.error && list.items.length === 0 && (
        <p class="empty" data-testid="queue-empty">
          No break-glass access awaits review.
        </p>
      )}
      <div class="audit-queue" data-testid="break-glass-queue">
        {list.items.map((item) => (
          <Section
            key={item.id}
            title={`${item.who.displayName ?? item.who.actor} — ${item.basis?.reason ?? "break-glass"}`}
          >
            <Facts
              items={[
                [
                  "Who",
                  <Link href={`/actors/${encodeURIComponent(item.who.actor)}`}>
                    {item.who.displayName ?? item.who.actor} ({item.who.actor})
                  </Link>,
                ],
                ["Patient", <Id value={item.patient} />],
                ["When", <Time iso={item.time} />],
                [
                  "Part",
                  <span>
                    {item.part.kind}
                    {item.part.section && ` ${item.part.section}`}{" "}
                    {item.part.id && <Id value={item.part.id} />}
                  </span>,
                ],
                ["Purpose", `${item.purpose} — ${PURPOSES[item.purpose] ?? ""}`],
                ["Reason", <Badge tone="warning">{item.basis?.reason ?? "—"}</Badge>],
                [
                  "Justification",
                  item.justification !== undefined ? (
                    <blockquote class="audit-quote">{item.justification}</blockquote>
                  ) : (
                    <em>
                      {item.justificationStatus === "unavailable"
                        ? "erased with the patient's data"
                        : "not recorded"}
                    </em>
                  ),
                ],
                ["Access record", <Id value={item.id} />],
              ]}
            />
            <ReviewForm
              item={item}
              onDone={(r) => {
                setDone(r);
                list.reload();
              }}
            />
          </Section>
        ))}
      </div>
      <More list={list} />
    </Page>
  );
}
