/**
 * Sharing: the patient's grants with their status now (GET /api/v1/patients/:patient/grants), a new
 * grant to a person, an institution, a trial or a dataset (scope, purpose, expiry), revocation — and
 * who signs them: the patient's own key in this browser once enrolled with the registrar's one-time
 * code, or else the node with the key it holds for them, said as such.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../../api.js";
import { useApi } from "../../hooks.js";
import { enrolPatientKey, loadPatientKey, logOrigin, PatientKeyError } from "../../lib/patient-key.js";
import { useActor } from "../../session.js";
import {
  Alert,
  Badge,
  Button,
  DataTable,
  Form,
  Loaded,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextField,
  Time,
} from "../../ui/index.js";
import { PURPOSES } from "../../lib/access.js";
import { APP_CLIENT, submitConsent, type Custody } from "./consent-submit.js";

interface Grant {
  readonly id: string;
  readonly grantee: { readonly kind: string; readonly id: string };
  readonly scope: string;
  readonly purposes: readonly string[];
  readonly period: { readonly start: string; readonly end?: string };
  readonly grantedBy: string;
  readonly status: "pending" | "active" | "expired" | "revoked";
}

const asError = (e: unknown): ApiError =>
  e instanceof ApiError
    ? e
    : e instanceof PatientKeyError
      ? new ApiError(e.status ?? 0, e.code, e.message)
      : new ApiError(0, "CLIENT", String(e));

const GRANTEE_KINDS = [
  { value: "actor", label: "a person (their account id)" },
  { value: "institution", label: "an institution (its log's origin)" },
  { value: "trial", label: "a clinical trial (its id)" },
  { value: "dataset", label: "a research dataset (its id)" },
];
const SCOPES = [
  { value: "reports-only", label: "my reports (no images)" },
  { value: "all-imaging", label: "my whole imaging record" },
];
const GRANT_PURPOSES = ["TREAT", "COC", "CLINTRL", "HRESCH", "FAMRQT", "PWATRNY"];
const STATUS_TONE = { active: "success", pending: "info", expired: "neutral", revoked: "danger" } as const;

/** Who signs: the patient's key here, or the node's key for them. */
function KeyCustody(props: { actor: string; custody: Custody; onEnrolled: () => void }) {
  const [code, setCode] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const [hasKeyHere, setHasKeyHere] = useState<boolean>();
  useEffect(() => {
    if (props.custody === "self")
      void loadPatientKey(props.actor).then((k) => setHasKeyHere(k?.enrolledAt !== undefined));
  }, [props.actor, props.custody]);
  const enrol = (): void => {
    setBusy(true);
    setError(undefined);
    logOrigin(APP_CLIENT)
      .then((origin) => enrolPatientKey(APP_CLIENT, { actor: props.actor, origin, code: code.trim() }))
      .then(() => {
        setCode("");
        props.onEnrolled();
      })
      .catch((e: unknown) => setError(asError(e)))
      .finally(() => setBusy(false));
  };
  if (props.custody === "self")
    return (
      <Section title="Your key">
        <Alert tone="success" title="You sign your consent with your own key" testId="custody">
          Your grants and revocations are signed in this browser with a key only you hold; the hospital's node
          cannot sign them for you, and refuses any that it would.
        </Alert>
        {hasKeyHere === false && (
          <Alert tone="warning">
            This browser does not hold your key (it is in the browser where you enrolled it). Ask the
            registrar for a new enrolment code to use this one.
          </Alert>
        )}
      </Section>
    );
  return (
    <Section title="Your key">
      <Alert tone="warning" title="Signed for you by the hospital's node" testId="custody">
        Your grants and revocations are signed by the hospital's node with the key it holds for you. To sign
        them yourself, with a key that stays in this browser and that the node cannot use, enter the one-time
        enrolment code the registrar gave you.
      </Alert>
      <ProblemAlert error={error} title="Not enrolled" />
      <Form onSubmit={enrol} label="Enrol a key in this browser">
        <TextField
          label="Enrolment code"
          hint="24 letters and digits, e.g. ABCD-EFGH-…"
          value={code}
          onValue={setCode}
          required
          autocomplete="off"
        />
        <div>
          <Button type="submit" variant="primary" busy={busy}>
            Use a key in this browser
          </Button>
        </div>
      </Form>
    </Section>
  );
}

function GrantForm(props: { actor: string; patient: string; custody: Custody; onGranted: () => void }) {
  const [kind, setKind] = useState("actor");
  const [granteeId, setGranteeId] = useState("");
  const [scope, setScope] = useState("reports-only");
  const [purpose, setPurpose] = useState("TREAT");
  const [until, setUntil] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = (): void => {
    setBusy(true);
    setError(undefined);
    const now = new Date().toISOString();
    logOrigin(APP_CLIENT)
      .then((origin) =>
        submitConsent({
          actor: props.actor,
          custody: props.custody,
          origin,
          type: "consent.granted",
          body: {
            patient: props.patient,
            grantee: { kind, id: granteeId.trim() },
            scope: { kind: scope },
            purposes: [purpose],
            period: { start: now, ...(until ? { end: `${until}T23:59:59.999Z` } : {}) },
          },
        }),
      )
      .then(() => {
        setGranteeId("");
        props.onGranted();
      })
      .catch((e: unknown) => setError(asError(e)))
      .finally(() => setBusy(false));
  };
  return (
    <Form onSubmit={submit} label="Share my record">
      <ProblemAlert error={error} title="Not shared" />
      <SelectField label="Share with" value={kind} onValue={setKind} options={GRANTEE_KINDS} />
      <TextField label="Who (id)" value={granteeId} onValue={setGranteeId} required />
      <SelectField label="What" value={scope} onValue={setScope} options={SCOPES} />
      <SelectField
        label="For what purpose"
        value={purpose}
        onValue={setPurpose}
        options={GRANT_PURPOSES.map((p) => ({ value: p, label: PURPOSES[p] ?? p }))}
      />
      <TextField
        label="Until (optional)"
        type="date"
        value={until}
        onValue={setUntil}
        hint="Leave empty to share until you revoke."
      />
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Share
        </Button>
      </div>
    </Form>
  );
}

export function SharingPage() {
  const me = useActor();
  const patient = me.patient ?? "";
  const actor = useApi<{ keyCustody?: Custody }>(`/api/v1/actors/${encodeURIComponent(me.id)}`);
  const grants = useApi<{ items: Grant[] }>(`/api/v1/patients/${encodeURIComponent(patient)}/grants`);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const custody: Custody = actor.data?.keyCustody === "self" ? "self" : "node";
  const revoke = (g: Grant): void => {
    if (
      !window.confirm(
        `Stop sharing with ${g.grantee.id}? From now on they are refused, and the log shows it.`,
      )
    )
      return;
    setError(undefined);
    logOrigin(APP_CLIENT)
      .then((origin) =>
        submitConsent({
          actor: me.id,
          custody,
          origin,
          type: "consent.revoked",
          body: { reason: "patient-request" },
          refs: { grant: g.id },
        }),
      )
      .then(() => {
        setDone(`Stopped sharing with ${g.grantee.id}.`);
        grants.reload();
      })
      .catch((e: unknown) => setError(asError(e)));
  };
  return (
    <Page
      title="Sharing"
      lead="Who may see your imaging record beyond the people caring for you, for what, and until when."
    >
      <Loaded state={actor}>
        {(a) => (
          <KeyCustody
            actor={me.id}
            custody={a.keyCustody === "self" ? "self" : "node"}
            onEnrolled={() => {
              actor.reload();
              setDone("Your key is enrolled: from now on you sign your own consent.");
            }}
          />
        )}
      </Loaded>
      {done && (
        <Alert tone="success" testId="done">
          {done}
        </Alert>
      )}
      <ProblemAlert error={error} title="Not revoked" />
      <Section title="Your grants">
        <Loaded state={grants}>
          {(g) => (
            <DataTable
              caption="Your grants"
              testId="grants"
              columns={[
                {
                  header: "With",
                  render: (x) =>
                    `${x.grantee.id} (${x.grantee.kind === "actor" ? "person" : x.grantee.kind})`,
                },
                { header: "What", render: (x) => SCOPES.find((s) => s.value === x.scope)?.label ?? x.scope },
                { header: "Purpose", render: (x) => x.purposes.map((p) => PURPOSES[p] ?? p).join(", ") },
                { header: "From", render: (x) => <Time iso={x.period.start} /> },
                {
                  header: "Until",
                  render: (x) => (x.period.end ? <Time iso={x.period.end} /> : "until revoked"),
                },
                { header: "Status", render: (x) => <Badge tone={STATUS_TONE[x.status]}>{x.status}</Badge> },
                {
                  header: "Action",
                  render: (x) =>
                    x.status === "active" || x.status === "pending" ? (
                      <Button
                        variant="danger"
                        onClick={() => revoke(x)}
                        aria-label={`Stop sharing with ${x.grantee.id}`}
                      >
                        Revoke
                      </Button>
                    ) : null,
                },
              ]}
              rows={g.items}
              rowKey={(x) => x.id}
              empty="You have not shared your record with anyone."
            />
          )}
        </Loaded>
      </Section>
      <Section title="Share my record">
        <p class="hint">
          {custody === "self"
            ? "Signed in this browser with your own key."
            : "Signed for you by the hospital's node with the key it holds for you."}
        </p>
        <GrantForm
          actor={me.id}
          patient={patient}
          custody={custody}
          onGranted={() => {
            setDone("Shared. The grant is on the log.");
            grants.reload();
          }}
        />
      </Section>
    </Page>
  );
}
