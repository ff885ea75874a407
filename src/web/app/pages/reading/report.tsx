/**
 * A report (/reading/reports/:id): each section with its author, role, time and AI badge (vendor,
 * model, version, disposition); the AI findings on the study; consultations; sign-off; amendments
 * with their reason (GET /api/v1/reports/:id, /models). "Show text" reads through the gatekeeper
 * (POST /api/v1/reports/:id/content), which decides and records the read before answering: the page
 * shows the decision — permit and its basis, or the deny with its reason — and the access record.
 * Break-glass is an explicit form (reason code and a justification of at least 10 characters).
 * Writing (sections, consultations, AI dispositions, sign-off, amendments): ./write.ts.
 */
import { useState } from "preact/hooks";
import { ApiError } from "../../api.js";
import { useApi } from "../../hooks.js";
import { useActor, type Actor } from "../../session.js";
import {
  Alert,
  Badge,
  Button,
  Facts,
  Form,
  Id,
  Loaded,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextAreaField,
  TextField,
  Time,
} from "../../ui/index.js";
import { api } from "../../api.js";
import {
  AMENDMENT_REASONS,
  BREAK_GLASS_REASONS,
  label,
  SECTIONS_BY_ROLE,
  type AiFinding,
  type Consultation,
  type ContentAnswer,
  type DispositionCode,
  type ModelSummary,
  type ReportView,
  type Section as ReportSection,
} from "./model.js";
import { StageBadge } from "./worklist.js";
import { append, putText } from "./write.js";

function asError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e));
}

/** One write: busy while it runs, the node's refusal (with its code) if it refuses. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  async function run(fn: () => Promise<unknown>): Promise<boolean> {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(asError(e));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, run };
}

function modelText(m: ModelSummary): string {
  return `${m.vendor} ${m.name} ${m.version}`;
}

function basisText(basis: Record<string, unknown>): string {
  const kind = typeof basis.kind === "string" ? basis.kind : "unknown";
  const extra = Object.entries(basis)
    .filter(([k, v]) => k !== "kind" && (typeof v === "string" || typeof v === "number"))
    // A basis names entries by their 64-hex leaf hash: shown short, as <Id> does, so that the
    // sentence wraps on a phone instead of scrolling the page sideways.
    .map(
      ([k, v]) =>
        `${k} ${typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? `${v.slice(0, 10)}…` : String(v)}`,
    );
  return extra.length ? `${label(kind)} (${extra.join(", ")})` : label(kind);
}

const CLINICAL = ["radiologist", "clinician", "technologist"];

function writingRoles(actor: Actor): string[] {
  return actor.roles.filter((r) => CLINICAL.includes(r));
}

export function ReportPage(props: { id: string }) {
  const actor = useActor();
  const view = useApi<ReportView>(`/api/v1/reports/${props.id}`);
  const models = useApi<{ items: ModelSummary[] }>(`/api/v1/reports/${props.id}/models`);
  const [text, setText] = useState<ContentAnswer | undefined>();
  const reload = () => {
    view.reload();
    models.reload();
  };
  return (
    <Page title={`Report ${props.id.slice(0, 10)}`} lead="Sections, AI findings, consultations and sign-off.">
      <Loaded state={view}>
        {(r) => (
          <div class="reading-report">
            <Section title="Report">
              <Facts
                items={[
                  ["Status", <StageBadge stage={r.stage} />],
                  ["Kind", label(r.reportKind ?? "diagnostic")],
                  ["Modality", `${r.modalities.join(", ")}${r.bodyPart ? ` · ${r.bodyPart}` : ""}`],
                  ["Patient (pseudonym)", <Id value={r.patient} />],
                  ["Study", <Id value={r.study} />],
                  [
                    "Opened",
                    <span>
                      {r.openedByName ?? r.openedBy}, <Time iso={r.openedAt} />
                    </span>,
                  ],
                  [
                    "Sign-off",
                    r.signOff ? (
                      <span data-testid="sign-off">
                        {r.signOff.byName ?? r.signOff.by}, <Time iso={r.signOff.time} /> (
                        {label(r.signOff.attestation)})
                      </span>
                    ) : (
                      "Not signed"
                    ),
                  ],
                  [
                    "AI models used",
                    models.data && models.data.items.length
                      ? models.data.items.map(modelText).join("; ")
                      : "None",
                  ],
                ]}
              />
            </Section>
            <ReadText report={r} onRead={setText} />
            <Sections report={r} text={text} />
            <AiFindings report={r} actor={actor} onDone={reload} />
            <Consultations report={r} actor={actor} text={text} onDone={reload} />
            {r.status === "open" && writingRoles(actor).length > 0 && (
              <AddSection report={r} actor={actor} onDone={reload} />
            )}
            {r.status === "open" && actor.roles.includes("radiologist") && (
              <SignOff report={r} onDone={reload} />
            )}
            {r.status === "signed" &&
              (actor.roles.includes("radiologist") || actor.roles.includes("clinician")) && (
                <Amend report={r} actor={actor} onDone={reload} />
              )}
          </div>
        )}
      </Loaded>
    </Page>
  );
}

/** Reading the text: the gatekeeper's decision, recorded on the log before anything is shown. */
function ReadText(props: { report: ReportView; onRead: (a: ContentAnswer) => void }) {
  const action = useAction();
  const [permit, setPermit] = useState<ContentAnswer["access"] | undefined>();
  const [reason, setReason] = useState<string>(BREAK_GLASS_REASONS[0]);
  const [justification, setJustification] = useState("");
  const [justError, setJustError] = useState<string | undefined>();
  const deny = action.error?.code === "ACCESS_DENIED" ? action.error : undefined;

  async function read(body: Record<string, unknown>) {
    setPermit(undefined);
    await action.run(async () => {
      const a = await api<ContentAnswer>(`/api/v1/reports/${props.report.id}/content`, {
        method: "POST",
        body,
      });
      setPermit(a.access);
      props.onRead(a);
    });
  }

  function breakGlass() {
    if (justification.trim().length < 10) {
      setJustError("Say why, in at least 10 characters.");
      return;
    }
    setJustError(undefined);
    void read({ breakGlass: { reason, justification } });
  }

  return (
    <Section
      title="Report text"
      actions={
        <Button variant="primary" onClick={() => void read({})} busy={action.busy}>
          Show text
        </Button>
      }
    >
      <p class="hint">
        Every read is decided by the node (consent, care relationship, own record) and recorded on the log as
        an access record before any text is shown.
      </p>
      {permit && (
        <Alert tone="success" title="Access permitted" testId="access-decision">
          Basis: {basisText(permit.basis)}. Access record <Id value={permit.id} /> (log entry {permit.index})
          {permit.review ? "; it awaits an auditor's review" : ""}.
        </Alert>
      )}
      {deny && (
        <div data-testid="access-decision" data-decision="deny">
          <Alert tone="danger" title="Access denied">
            Reason: {typeof deny.problem.reason === "string" ? deny.problem.reason : deny.detail}. The refusal
            is recorded: access record{" "}
            <Id value={typeof deny.problem.access === "string" ? deny.problem.access : ""} />.{" "}
            <code>{deny.code}</code>
          </Alert>
        </div>
      )}
      {action.error && !deny && <ProblemAlert error={action.error} />}
      {deny && (
        <Form onSubmit={breakGlass} label="Break the glass">
          <p>
            In an emergency, read anyway: the access is recorded as break-glass and an auditor reviews it.
          </p>
          <SelectField
            label="Break-glass reason"
            value={reason}
            onValue={setReason}
            options={BREAK_GLASS_REASONS.map((r) => ({ value: r, label: label(r) }))}
          />
          <TextAreaField
            label="Justification"
            hint="At least 10 characters. Kept in the vault; only its commitment goes on the log."
            value={justification}
            onValue={setJustification}
            required
            {...(justError === undefined ? {} : { error: justError })}
          />
          <Button type="submit" variant="danger" busy={action.busy}>
            Break the glass and read
          </Button>
        </Form>
      )}
    </Section>
  );
}

function SectionItem(props: { s: ReportSection; text: ContentAnswer | undefined; finding?: AiFinding }) {
  const s = props.s;
  const loaded = props.text?.sections.find((x) => x.id === s.id);
  return (
    <article class="reading-section" data-testid={`section-${s.id}`} aria-label={label(s.section)}>
      <h3>
        {label(s.section)}
        {s.kind !== "contribution" && <Badge>{label(s.kind)}</Badge>}
        {s.origin !== "human" && (
          <Badge tone="ai" title={s.modelVersion ? modelText(s.modelVersion) : "AI"}>
            {s.origin === "ai" ? "AI" : "AI, modified"}
            {s.modelVersion ? ` · ${modelText(s.modelVersion)}` : ""}
            {props.finding ? ` · ${props.finding.status}` : ""}
          </Badge>
        )}
      </h3>
      <p class="reading-byline">
        {s.authorName ?? s.author} ({label(s.role)}
        {s.specialty ? `, ${s.specialty}` : ""}
        {s.enteredBy ? `; entered by ${s.enteredByName ?? s.enteredBy}` : ""}), <Time iso={s.time} />
        {s.reason ? ` — reason: ${label(s.reason)}` : ""}
      </p>
      {loaded?.content?.text !== undefined ? (
        <p class="reading-text">{loaded.content.text}</p>
      ) : loaded?.contentStatus === "unavailable" ? (
        <p class="hint">Text unavailable (erased or never stored).</p>
      ) : (
        <p class="hint">Text hidden: use “Show text”.</p>
      )}
    </article>
  );
}

function Sections(props: { report: ReportView; text: ContentAnswer | undefined }) {
  const r = props.report;
  const findingOf = (s: ReportSection) =>
    s.inference === undefined ? undefined : r.aiFindings.find((f) => f.inference === s.inference);
  const item = (s: ReportSection) => {
    const f = findingOf(s);
    return <SectionItem key={s.id} s={s} text={props.text} {...(f ? { finding: f } : {})} />;
  };
  return (
    <>
      <Section title="Sections">
        {r.sections.length === 0 ? <p class="empty">No sections yet.</p> : r.sections.map(item)}
      </Section>
      {r.amendments.length > 0 && <Section title="Amendments and addenda">{r.amendments.map(item)}</Section>}
    </>
  );
}

const DISPOSITION_TONE = {
  accepted: "success",
  modified: "info",
  rejected: "danger",
  pending: "warning",
} as const;

/**
 * The AI findings on the report's study (docs/families/ai.md): each inference with its model as the
 * AI badge (vendor, name, version), its disposition history and, on a draft, the radiologist's
 * decision. Accept is one entry; Modify asks for the finding as the radiologist words it — the text
 * to the vault, an ai.finding.disposition "modified" citing it (noteCommitment), then a section of
 * origin ai-modified citing the inference, so the changed finding is part of the report; Reject
 * takes an optional reason (vault, noteCommitment). Once the report is signed the node refuses a
 * disposition naming it (REPORT_SIGNED), so a signed report offers none.
 */
function AiFindings(props: { report: ReportView; actor: Actor; onDone: () => void }) {
  const may = props.actor.roles.includes("radiologist") && props.report.status === "open";
  if (props.report.aiFindings.length === 0) return null;
  return (
    <Section title="AI findings">
      {props.report.aiFindings.map((f) => (
        <FindingItem key={f.inference} report={props.report} finding={f} may={may} onDone={props.onDone} />
      ))}
    </Section>
  );
}

const RADIOLOGIST_FINDING_SECTIONS = ["findings", "measurement", "impression"];

function FindingItem(props: { report: ReportView; finding: AiFinding; may: boolean; onDone: () => void }) {
  const f = props.finding;
  const r = props.report;
  const action = useAction();
  const [mode, setMode] = useState<"modify" | "reject" | undefined>();
  const [text, setText] = useState("");
  const [section, setSection] = useState("findings");
  const short = f.inference.slice(0, 8);
  const refs = { inference: f.inference, report: r.id };
  const dispose = (disposition: DispositionCode, note?: string) =>
    append("ai.finding.disposition", { disposition, ...(note ? { noteCommitment: note } : {}) }, refs);
  const done = (ok: boolean) => {
    if (!ok) return;
    setMode(undefined);
    setText("");
    props.onDone();
  };
  return (
    <article
      class="reading-finding"
      data-testid={`finding-${f.inference}`}
      aria-label={`AI finding ${short}`}
    >
      <p>
        <Badge tone="ai" title="AI output">
          AI · {f.model ? modelText(f.model) : "unknown model"}
        </Badge>{" "}
        {f.findingCount ? `${f.findingCount} finding(s), ` : ""}inference <Id value={f.inference} />
        {f.time ? (
          <>
            {" "}
            at <Time iso={f.time} />
          </>
        ) : null}{" "}
        <Badge tone={DISPOSITION_TONE[f.status]}>{label(f.status)}</Badge>
      </p>
      {f.dispositions.length > 0 && (
        <ul class="reading-history">
          {f.dispositions.map((d, i) => (
            <li key={i}>
              {label(d.disposition)} by {d.byName ?? d.by}
              {d.time ? (
                <>
                  , <Time iso={d.time} />
                </>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      <ProblemAlert error={action.error} title="The disposition was not recorded" />
      {props.may && mode === undefined && (
        <div class="actions" role="group" aria-label={`Decide AI finding ${short}`}>
          <Button
            busy={action.busy}
            aria-label={`Accept AI finding ${short}`}
            onClick={() => void action.run(() => dispose("accepted")).then(done)}
          >
            Accept
          </Button>
          <Button aria-label={`Modify AI finding ${short}`} onClick={() => setMode("modify")}>
            Modify…
          </Button>
          <Button aria-label={`Reject AI finding ${short}`} onClick={() => setMode("reject")}>
            Reject…
          </Button>
        </div>
      )}
      {props.may && mode === "modify" && (
        <Form
          label={`Modify AI finding ${short}`}
          onSubmit={() =>
            void action
              .run(async () => {
                const commitment = await putText(r.patient, text);
                await dispose("modified", commitment);
                await append(
                  "report.contribution",
                  { section, role: "radiologist", contentCommitment: commitment, origin: "ai-modified" },
                  refs,
                );
              })
              .then(done)
          }
        >
          <SelectField
            label="Section"
            value={section}
            onValue={setSection}
            options={RADIOLOGIST_FINDING_SECTIONS.map((x) => ({ value: x, label: label(x) }))}
          />
          <TextAreaField
            label="The finding as you word it"
            hint="Goes into the report as a section of origin “AI, modified”, citing this inference."
            value={text}
            onValue={setText}
            rows={3}
            required
          />
          <div class="actions">
            <Button type="submit" variant="primary" busy={action.busy}>
              Record modified finding
            </Button>
            <Button onClick={() => setMode(undefined)}>Cancel</Button>
          </div>
        </Form>
      )}
      {props.may && mode === "reject" && (
        <Form
          label={`Reject AI finding ${short}`}
          onSubmit={() =>
            void action
              .run(async () => {
                const note = text.trim() ? await putText(r.patient, text) : undefined;
                await dispose("rejected", note);
              })
              .then(done)
          }
        >
          <TextAreaField
            label="Why (optional)"
            hint="Kept in the vault; the log records only its commitment."
            value={text}
            onValue={setText}
            rows={2}
          />
          <div class="actions">
            <Button type="submit" variant="danger" busy={action.busy}>
              Reject finding
            </Button>
            <Button onClick={() => setMode(undefined)}>Cancel</Button>
          </div>
        </Form>
      )}
    </article>
  );
}

/** A consultation's question, once "Show text" has read the report (else undefined). */
function questionOf(text: ContentAnswer | undefined, consult: string): string | undefined {
  return text?.consultations?.find((c) => c.id === consult)?.question?.text;
}

function Consultations(props: {
  report: ReportView;
  actor: Actor;
  text: ContentAnswer | undefined;
  onDone: () => void;
}) {
  const r = props.report;
  const me = props.actor.id;
  const mayAsk =
    r.status === "open" &&
    (props.actor.roles.includes("radiologist") || props.actor.roles.includes("clinician"));
  const mine = r.consultationsDetail.filter((c) => c.to === me && c.status === "open");
  if (r.consultationsDetail.length === 0 && !mayAsk) return null;
  return (
    <Section title="Consultations">
      {r.consultationsDetail.length === 0 ? (
        <p class="empty">No consultations.</p>
      ) : (
        <ul class="reading-history" data-testid="consultations">
          {r.consultationsDetail.map((c) => (
            <li key={c.id}>
              {c.fromName ?? c.from} asked {c.toName ?? c.to}
              {c.specialty ? ` (${c.specialty})` : ""}
              {c.requestedAt ? (
                <>
                  , <Time iso={c.requestedAt} />
                </>
              ) : null}{" "}
              <Badge tone={c.status === "open" ? "warning" : "success"}>{label(c.status)}</Badge>
              {c.answeredAt ? (
                <>
                  {" "}
                  answered <Time iso={c.answeredAt} />
                </>
              ) : null}
              {questionOf(props.text, c.id) !== undefined && (
                <p class="reading-text">Question: {questionOf(props.text, c.id)}</p>
              )}
            </li>
          ))}
        </ul>
      )}
      {r.status === "open" &&
        mine.map((c) => (
          <AnswerConsult
            key={c.id}
            report={r}
            consult={c}
            question={questionOf(props.text, c.id)}
            actor={props.actor}
            onDone={props.onDone}
          />
        ))}
      {mayAsk && <AskConsult report={r} onDone={props.onDone} />}
    </Section>
  );
}

function AskConsult(props: { report: ReportView; onDone: () => void }) {
  const action = useAction();
  const [to, setTo] = useState("");
  const [specialty, setSpecialty] = useState("");
  const [question, setQuestion] = useState("");
  return (
    <Form
      label="Request a consultation"
      onSubmit={() =>
        void action
          .run(async () => {
            const commitment = await putText(props.report.patient, question);
            await append(
              "consult.requested",
              { to: to.trim(), questionCommitment: commitment, ...(specialty ? { specialty } : {}) },
              { report: props.report.id },
            );
          })
          .then((ok) => {
            if (!ok) return;
            setTo("");
            setSpecialty("");
            setQuestion("");
            props.onDone();
          })
      }
    >
      <h3>Request a consultation</h3>
      <TextField label="Consultant (actor id)" value={to} onValue={setTo} required />
      <TextField label="Specialty (optional)" value={specialty} onValue={setSpecialty} />
      <TextAreaField label="Question" value={question} onValue={setQuestion} required />
      <ProblemAlert error={action.error} title="The consultation was not requested" />
      <Button type="submit" busy={action.busy}>
        Request consultation
      </Button>
    </Form>
  );
}

function AnswerConsult(props: {
  report: ReportView;
  consult: Consultation;
  question: string | undefined;
  actor: Actor;
  onDone: () => void;
}) {
  const c = props.consult;
  const action = useAction();
  const [answer, setAnswer] = useState("");
  const role = props.actor.roles.includes("radiologist") ? "radiologist" : "clinician";
  return (
    <Form
      label={`Answer the consultation asked by ${c.fromName ?? c.from}`}
      onSubmit={() =>
        void action
          .run(async () => {
            const commitment = await putText(props.report.patient, answer);
            await append(
              "consult.answered",
              { section: "consultation-note", role, contentCommitment: commitment, origin: "human" },
              { consult: c.id },
            );
          })
          .then((ok) => ok && props.onDone())
      }
    >
      <h3>
        Asked of you by {c.fromName ?? c.from}
        {c.specialty ? ` (${label(c.specialty)})` : ""}
      </h3>
      {props.question !== undefined ? (
        <p class="reading-text" data-testid="consult-question">
          {props.question}
        </p>
      ) : (
        <p class="hint">The question is read with the report: use “Show text”.</p>
      )}
      <TextAreaField label="Your answer" value={answer} onValue={setAnswer} required />
      <ProblemAlert error={action.error} title="The answer was not recorded" />
      <Button type="submit" variant="primary" busy={action.busy}>
        Answer consultation
      </Button>
    </Form>
  );
}

function AddSection(props: { report: ReportView; actor: Actor; onDone: () => void }) {
  const roles = writingRoles(props.actor);
  const [role, setRole] = useState(roles[0]!);
  const sections = SECTIONS_BY_ROLE[role] ?? [];
  const [section, setSection] = useState(sections.includes("findings") ? "findings" : sections[0]!);
  const [text, setText] = useState("");
  const action = useAction();
  const [done, setDone] = useState<string | undefined>();
  return (
    <Section title="Write a section">
      <Form
        label="Write a section"
        onSubmit={() =>
          void action
            .run(async () => {
              const commitment = await putText(props.report.patient, text);
              const r = await append(
                "report.contribution",
                { section, role, contentCommitment: commitment, origin: "human" },
                { report: props.report.id },
              );
              setDone(r.leafHash);
            })
            .then((ok) => {
              if (!ok) return;
              setText("");
              props.onDone();
            })
        }
      >
        {roles.length > 1 && (
          <SelectField
            label="Role"
            value={role}
            onValue={(v) => {
              setRole(v);
              setSection(SECTIONS_BY_ROLE[v]![0]!);
            }}
            options={roles.map((r) => ({ value: r, label: label(r) }))}
          />
        )}
        <SelectField
          label="Section"
          value={section}
          onValue={setSection}
          options={sections.map((s) => ({ value: s, label: label(s) }))}
        />
        <TextAreaField
          label="Section text"
          hint="The text goes to the vault; the log records only its commitment, signed by you."
          value={text}
          onValue={setText}
          rows={5}
          required
        />
        <ProblemAlert error={action.error} title="The section was not added" />
        {done && (
          <Alert tone="success" testId="section-added">
            Section added: log entry <Id value={done} />.
          </Alert>
        )}
        <Button type="submit" variant="primary" busy={action.busy}>
          Add section
        </Button>
      </Form>
    </Section>
  );
}

function SignOff(props: { report: ReportView; onDone: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [attestation, setAttestation] = useState("final");
  const action = useAction();
  const r = props.report;
  const open = r.consultationsDetail.filter((c) => c.status === "open").length;
  return (
    <Section title="Sign-off">
      <ProblemAlert error={action.error} title="The report was not signed" />
      {!confirming ? (
        <Button variant="primary" onClick={() => setConfirming(true)}>
          Sign off…
        </Button>
      ) : (
        <Form
          label="Confirm sign-off"
          onSubmit={() =>
            void action
              .run(() =>
                append(
                  "report.signed",
                  { attestation },
                  { report: r.id, contributions: r.sections.map((s) => s.id) },
                ),
              )
              .then((ok) => {
                setConfirming(false);
                if (ok) props.onDone();
              })
          }
        >
          <Alert tone="warning" title="Signing freezes the report">
            The sign-off lists these {r.sections.length} section(s) and freezes the set: afterwards only
            amendments and addenda, each with a reason, can change the report.
            {open > 0 ? ` ${open} consultation(s) are still open: the node will refuse (CONSULT_OPEN).` : ""}
          </Alert>
          <SelectField
            label="Attestation"
            value={attestation}
            onValue={setAttestation}
            options={[
              { value: "final", label: "Final" },
              { value: "preliminary-final", label: "Preliminary final" },
            ]}
          />
          <div class="actions">
            <Button type="submit" variant="primary" busy={action.busy}>
              Confirm sign-off
            </Button>
            <Button onClick={() => setConfirming(false)}>Cancel</Button>
          </div>
        </Form>
      )}
    </Section>
  );
}

function Amend(props: { report: ReportView; actor: Actor; onDone: () => void }) {
  const r = props.report;
  const role = props.actor.roles.includes("radiologist") ? "radiologist" : "clinician";
  const targets = [...r.sections, ...r.amendments];
  const [kind, setKind] = useState("amendment");
  const [amends, setAmends] = useState(targets[targets.length - 1]?.id ?? "");
  const [section, setSection] = useState("impression");
  const [reason, setReason] = useState<string>("correction");
  const [text, setText] = useState("");
  const action = useAction();
  const target = targets.find((t) => t.id === amends);
  return (
    <Section title="Amend or add to the signed report">
      <Form
        label="Amend the report"
        onSubmit={() =>
          void action
            .run(async () => {
              const commitment = await putText(r.patient, text);
              const sectionName = kind === "amendment" ? (target?.section ?? section) : section;
              await append(
                "report.amended",
                { section: sectionName, role, contentCommitment: commitment, origin: "human", kind, reason },
                { report: r.id, ...(kind === "amendment" ? { amends } : {}) },
              );
            })
            .then((ok) => {
              if (!ok) return;
              setText("");
              props.onDone();
            })
        }
      >
        <SelectField
          label="Kind"
          value={kind}
          onValue={setKind}
          options={[
            { value: "amendment", label: "Amendment (changes a section)" },
            { value: "addendum", label: "Addendum (adds a section)" },
          ]}
        />
        {kind === "amendment" ? (
          <SelectField
            label="Section to amend"
            value={amends}
            onValue={setAmends}
            options={targets.map((t) => ({
              value: t.id,
              label: `${label(t.section)} — ${t.authorName ?? t.author} (${t.id.slice(0, 8)})`,
            }))}
          />
        ) : (
          <SelectField
            label="Section"
            value={section}
            onValue={setSection}
            options={(SECTIONS_BY_ROLE[role] ?? []).map((s) => ({ value: s, label: label(s) }))}
          />
        )}
        <SelectField
          label="Reason"
          value={reason}
          onValue={setReason}
          options={AMENDMENT_REASONS.map((x) => ({ value: x, label: label(x) }))}
        />
        <TextAreaField label="Amended text" value={text} onValue={setText} rows={4} required />
        <ProblemAlert error={action.error} title="The amendment was not recorded" />
        <Button type="submit" variant="primary" busy={action.busy}>
          Record amendment
        </Button>
      </Form>
    </Section>
  );
}
