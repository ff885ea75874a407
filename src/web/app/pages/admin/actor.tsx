/**
 * One actor: facts, roles (role.granted / role.revoked), password reset (PUT
 * /api/v1/actors/:id/password: the person must choose their own at next sign-in), key revocation
 * (key.revoked), and their tokens. Each change is an entry signed with the admin's key.
 */
import { useState } from "preact/hooks";
import { api, ApiError } from "../../api.js";
import { useApi } from "../../hooks.js";
import type { Actor } from "../../session.js";
import {
  Alert,
  Badge,
  Button,
  Facts,
  Form,
  Loaded,
  Page,
  ProblemAlert,
  Section,
  SelectField,
  TextField,
  Time,
} from "../../ui/index.js";
import { GRANTABLE_ROLES } from "./roles.js";
import { TokensTable, type TokenRecord } from "./tokens-table.js";

interface ActorDoc extends Actor {
  readonly keys?: string[];
  readonly enrolledAt?: number;
  readonly enrolledBy?: string;
}

const asError = (e: unknown): ApiError => (e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));

/** Appends an entry signed with the admin's held key (POST /api/v1/entries/{type}). */
const append = (type: string, body: Record<string, unknown>): Promise<unknown> =>
  api(`/api/v1/entries/${type}`, { method: "POST", body: { body } });

function Roles(props: { actor: ActorDoc; onChange: () => void }) {
  const missing = GRANTABLE_ROLES.filter((r) => !props.actor.roles.includes(r) && r !== "patient");
  const [picked, setRole] = useState<string>(missing[0] ?? "");
  // After a grant the picked role is no longer missing: offer the first one that is.
  const role = (missing as readonly string[]).includes(picked) ? picked : (missing[0] ?? "");
  const [error, setError] = useState<ApiError>();
  const change = (type: "role.granted" | "role.revoked", r: string): void => {
    setError(undefined);
    append(type, { actorId: props.actor.id, role: r })
      .then(props.onChange)
      .catch((e: unknown) => setError(asError(e)));
  };
  return (
    <Section title="Roles">
      <ProblemAlert error={error} title="Role not changed" />
      <ul class="chips" aria-label="Current roles">
        {props.actor.roles.map((r) => (
          <li key={r}>
            <Badge tone="info">{r}</Badge>{" "}
            {props.actor.roles.length > 1 && (
              <Button
                variant="ghost"
                onClick={() => change("role.revoked", r)}
                aria-label={`Take away role ${r}`}
              >
                Remove
              </Button>
            )}
          </li>
        ))}
      </ul>
      {props.actor.kind !== "patient" && missing.length > 0 && (
        <Form onSubmit={() => change("role.granted", role)} label="Grant a role" class="toolbar">
          <SelectField
            label="Role to grant"
            value={role}
            onValue={setRole}
            options={missing.map((r) => ({ value: r, label: r }))}
          />
          <Button type="submit">Grant role</Button>
        </Form>
      )}
    </Section>
  );
}

function Password(props: { actor: ActorDoc }) {
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ApiError>();
  const submit = (): void => {
    setError(undefined);
    setDone(false);
    api(`/api/v1/actors/${props.actor.id}/password`, { method: "PUT", body: { password } })
      .then(() => {
        setDone(true);
        setPassword("");
      })
      .catch((e: unknown) => setError(asError(e)));
  };
  return (
    <Section title="Reset password">
      <ProblemAlert error={error} title="Password not set" />
      {done && (
        <Alert tone="success" testId="password-reset">
          Password reset (password.set is on the log). Their tokens are revoked; at the next sign-in they
          choose their own.
        </Alert>
      )}
      <Form onSubmit={submit} label="Reset password">
        <TextField
          label="New password"
          type="password"
          hint="12 characters or more. The person must replace it at their next sign-in."
          value={password}
          onValue={setPassword}
          required
          minLength={12}
          autocomplete="new-password"
        />
        <div>
          <Button type="submit">Reset password</Button>
        </div>
      </Form>
    </Section>
  );
}

const REVOKE_REASONS = [
  { value: "compromised", label: "Compromised" },
  { value: "left", label: "Left the institution" },
  { value: "superseded", label: "Superseded" },
  { value: "other", label: "Other" },
];

function Keys(props: { actor: ActorDoc; onChange: () => void }) {
  const keys = props.actor.keys ?? [];
  const [keyId, setKeyId] = useState(keys.at(-1) ?? "");
  const [reason, setReason] = useState("compromised");
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  const submit = (): void => {
    if (!window.confirm(`Revoke key ${keyId} of ${props.actor.id}? Nothing it signs is admitted afterwards.`))
      return;
    setError(undefined);
    append("key.revoked", { actorId: props.actor.id, keyId, reason })
      .then(() => {
        setDone(keyId);
        props.onChange();
      })
      .catch((e: unknown) => setError(asError(e)));
  };
  return (
    <Section title="Keys">
      <ProblemAlert error={error} title="Key not revoked" />
      {done && (
        <Alert tone="success" testId="key-revoked">
          Key {done} revoked (key.revoked is on the log).
        </Alert>
      )}
      <p>
        Keys enrolled for this actor, oldest first:{" "}
        {keys.length === 0 ? "none" : keys.map((k) => <code key={k}>{k} </code>)}
      </p>
      {keys.length > 0 && (
        <Form onSubmit={submit} label="Revoke a key" class="toolbar">
          <SelectField
            label="Key"
            value={keyId}
            onValue={setKeyId}
            options={keys.map((k) => ({ value: k, label: k }))}
          />
          <SelectField label="Reason" value={reason} onValue={setReason} options={REVOKE_REASONS} />
          <Button type="submit" variant="danger">
            Revoke key
          </Button>
        </Form>
      )}
    </Section>
  );
}

/**
 * A patient's one-time enrolment code (POST /api/v1/actors/:id/enrolment-codes): shown once, given
 * to the patient, who enrols a key of their own in their browser with it (docs/api.md "Browser keys").
 */
function EnrolmentCode(props: { actor: ActorDoc }) {
  const [code, setCode] = useState<{ code: string; expiresAt?: string }>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const issue = (): void => {
    setBusy(true);
    setError(undefined);
    api<{ code: string; record: { expiresAt?: string } }>(
      `/api/v1/actors/${props.actor.id}/enrolment-codes`,
      {
        method: "POST",
        body: {},
      },
    )
      .then((r) =>
        setCode({ code: r.code, ...(r.record.expiresAt ? { expiresAt: r.record.expiresAt } : {}) }),
      )
      .catch((e: unknown) => setError(asError(e)))
      .finally(() => setBusy(false));
  };
  const self = props.actor.keyCustody === "self";
  return (
    <Section title="Browser key enrolment">
      <p>
        {self ? (
          <Badge tone="success">the patient holds their own key</Badge>
        ) : (
          <Badge tone="warning">the node holds this patient's key</Badge>
        )}{" "}
        {self
          ? "Their consent is signed in their browser; the node cannot sign a grant or a revocation for them."
          : "Give the patient a one-time code: signed in, they enrol a key made in their browser, and the node's key for them is retired on the log."}
      </p>
      <ProblemAlert error={error} title="No code issued" />
      {code && (
        <Alert
          tone="success"
          title="Give this code to the patient now: it is shown once"
          testId="enrolment-code"
        >
          <code>{code.code}</code>
          {code.expiresAt && (
            <>
              {" "}
              — valid until <Time iso={code.expiresAt} />
            </>
          )}
        </Alert>
      )}
      <Button onClick={issue} busy={busy}>
        Issue enrolment code
      </Button>
    </Section>
  );
}

export function ActorPage(props: { id: string }) {
  const actor = useApi<{ [k: string]: unknown } & ActorDoc>(`/api/v1/actors/${encodeURIComponent(props.id)}`);
  const tokens = useApi<{ items: TokenRecord[] }>("/api/v1/auth/tokens", { actor: props.id });
  return (
    <Page title={`Actor ${props.id}`}>
      <Loaded state={actor}>
        {(a) => (
          <>
            <Section title="Enrolment">
              <Facts
                items={[
                  ["Actor id", <code>{a.id}</code>],
                  ["Name", a.displayName ?? "—"],
                  ["Kind", a.kind],
                  [
                    "Status",
                    <Badge tone={a.status === "active" ? "success" : "danger"}>{a.status ?? "active"}</Badge>,
                  ],
                  ["Enrolled by", a.enrolledBy ?? "—"],
                  ["Enrolment entry", a.enrolledAt === undefined ? "—" : `#${a.enrolledAt}`],
                  ...(a.patient ? ([["Patient pseudonym", <code>{a.patient}</code>]] as const) : []),
                ]}
              />
            </Section>
            <Roles actor={a} onChange={actor.reload} />
            {a.kind !== "system" && <Password actor={a} />}
            {a.kind === "patient" && <EnrolmentCode actor={a} />}
            <Keys actor={a} onChange={actor.reload} />
          </>
        )}
      </Loaded>
      <Section title="Tokens">
        <Loaded state={tokens}>
          {(t) => <TokensTable tokens={t.items} onChange={tokens.reload} caption={`Tokens of ${props.id}`} />}
        </Loaded>
      </Section>
    </Page>
  );
}
