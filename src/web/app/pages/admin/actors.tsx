/** Actors: the enrolled people and systems (GET /api/v1/actors), and enrolment (POST /api/v1/actors). */
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api, ApiError } from "../../api.js";
import { usePaged } from "../../hooks.js";
import type { Actor } from "../../session.js";
import {
  Alert,
  Badge,
  Button,
  DataTable,
  Form,
  More,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextField,
} from "../../ui/index.js";
import { GRANTABLE_ROLES } from "./roles.js";

const KINDS = [
  { value: "staff", label: "Staff (a person)" },
  { value: "patient", label: "Patient" },
  { value: "system", label: "System (PACS, RIS, AI platform…)" },
];

function EnrolForm(props: { onEnrolled: (id: string) => void }) {
  const [actorId, setActorId] = useState("");
  const [kind, setKind] = useState("staff");
  const [role, setRole] = useState("radiologist");
  const [displayName, setDisplayName] = useState("");
  const [organisation, setOrganisation] = useState("");
  const [patient, setPatient] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = (): void => {
    setBusy(true);
    setError(undefined);
    const roles = kind === "patient" ? ["patient"] : [role];
    api("/api/v1/actors", {
      method: "POST",
      body: {
        actorId: actorId.trim(),
        kind,
        roles,
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        ...(kind !== "patient" && role === "sponsor" ? { organisation: organisation.trim() } : {}),
        ...(kind === "patient" ? { patient: patient.trim() } : {}),
        ...(password && kind !== "system" ? { password } : {}),
      },
    })
      .then(() => props.onEnrolled(actorId.trim()))
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <Form onSubmit={submit} label="Enrol an actor">
      <ProblemAlert error={error} title="Not enrolled" />
      <TextField
        label="Actor id"
        hint="Letters, digits, dashes; not a name (e.g. rad-chest-2)."
        value={actorId}
        onValue={setActorId}
        required
      />
      <SelectField label="Kind" value={kind} onValue={setKind} options={KINDS} />
      {kind !== "patient" && (
        <SelectField
          label="Role"
          value={role}
          onValue={setRole}
          options={GRANTABLE_ROLES.filter((r) => r !== "patient").map((r) => ({ value: r, label: r }))}
        />
      )}
      {kind === "patient" ? (
        <TextField
          label="Patient pseudonym"
          hint="The pseudonym the node derived for this patient (radledger pseudonym, or from a study) — never a name or MRN."
          value={patient}
          onValue={setPatient}
          required
        />
      ) : (
        <TextField label="Display name" value={displayName} onValue={setDisplayName} />
      )}
      {kind !== "patient" && role === "sponsor" && (
        <TextField
          label="Organisation"
          hint="The sponsor exactly as its trials name it: this person will see that sponsor's trials only."
          value={organisation}
          onValue={setOrganisation}
          required
        />
      )}
      {kind !== "system" && (
        <TextField
          label="First password"
          type="password"
          hint="Optional, 12+ characters. The person must replace it with their own at first sign-in."
          value={password}
          onValue={setPassword}
          autocomplete="new-password"
        />
      )}
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Enrol
        </Button>
      </div>
    </Form>
  );
}

export function ActorsPage() {
  const list = usePaged<Actor>("/api/v1/actors");
  const [enrolled, setEnrolled] = useState<string>();
  return (
    <Page
      title="Actors"
      lead="Everyone and everything that signs entries on this log. Enrolment is itself an entry, signed with your key."
    >
      {enrolled && (
        <Alert tone="success" testId="enrolled">
          Enrolled <Link href={`/actors/${enrolled}`}>{enrolled}</Link> (actor.enrolled is on the log).
        </Alert>
      )}
      <Section title="Enrol an actor">
        <EnrolForm
          onEnrolled={(id) => {
            setEnrolled(id);
            list.reload();
          }}
        />
      </Section>
      <Section title="Enrolled actors">
        <ProblemAlert error={list.error} />
        <DataTable
          caption="Enrolled actors"
          testId="actors"
          columns={[
            { header: "Actor", render: (a) => <Link href={`/actors/${a.id}`}>{a.id}</Link> },
            { header: "Name", render: (a) => a.displayName ?? (a.kind === "patient" ? "(patient)" : "—") },
            { header: "Kind", render: (a) => a.kind },
            { header: "Roles", render: (a) => a.roles.join(", ") },
            {
              header: "Status",
              render: (a) => (
                <Badge tone={a.status === "active" ? "success" : "danger"}>{a.status ?? "active"}</Badge>
              ),
            },
          ]}
          rows={list.items}
          rowKey={(a) => a.id}
        />
        <More list={list} />
      </Section>
    </Page>
  );
}
