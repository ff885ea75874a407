/** API tokens: every token record (GET /api/v1/auth/tokens), revocation, and a new token for a system actor. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../../api.js";
import { useApi } from "../../hooks.js";
import { Alert, Button, Form, Loaded, Page, ProblemAlert, Section, TextField } from "../../ui/index.js";
import { TokensTable, type TokenRecord } from "./tokens-table.js";

function IssueForm(props: { onIssued: () => void }) {
  const [actor, setActor] = useState("");
  const [label, setLabel] = useState("");
  const [issued, setIssued] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const submit = (): void => {
    setBusy(true);
    setError(undefined);
    setIssued(undefined);
    api<{ token: string }>("/api/v1/auth/tokens", {
      method: "POST",
      body: { actor: actor.trim(), ...(label.trim() ? { label: label.trim() } : {}) },
    })
      .then((r) => {
        setIssued(r.token);
        props.onIssued();
      })
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <Form onSubmit={submit} label="Issue an API token">
      <ProblemAlert error={error} title="No token issued" />
      {issued && (
        <Alert tone="success" title="Copy this token now: it is shown once" testId="issued-token">
          <code>{issued}</code>
        </Alert>
      )}
      <TextField
        label="System actor"
        hint="Admins issue tokens for system actors only; people sign in and make their own."
        value={actor}
        onValue={setActor}
        required
      />
      <TextField label="Label" value={label} onValue={setLabel} />
      <div>
        <Button type="submit" variant="primary" busy={busy}>
          Issue token
        </Button>
      </div>
    </Form>
  );
}

export function TokensPage() {
  const tokens = useApi<{ items: TokenRecord[] }>("/api/v1/auth/tokens");
  return (
    <Page
      title="API tokens"
      lead="Token records — never secrets. Each issuance and revocation is on the log (token.issued, token.revoked)."
    >
      <Section title="Issue a token for a system actor">
        <IssueForm onIssued={tokens.reload} />
      </Section>
      <Section title="Tokens">
        <Loaded state={tokens}>
          {(t) => <TokensTable tokens={t.items} onChange={tokens.reload} caption="Tokens" />}
        </Loaded>
      </Section>
    </Page>
  );
}
