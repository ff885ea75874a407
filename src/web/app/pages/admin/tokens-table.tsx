/** Token records (never secrets) with revocation: DELETE /api/v1/auth/tokens/:id, on the log as token.revoked. */
import { useState } from "preact/hooks";
import { api, ApiError } from "../../api.js";
import { Badge, Button, DataTable, ProblemAlert, Time } from "../../ui/index.js";

export interface TokenRecord {
  readonly id: string;
  readonly actor: string;
  readonly kind: "api" | "session";
  readonly label?: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly pending?: true;
}

function stateOf(t: TokenRecord): { tone: "success" | "danger" | "neutral" | "warning"; label: string } {
  if (t.revokedAt) return { tone: "danger", label: "revoked" };
  if (t.pending) return { tone: "warning", label: "pending" };
  if (Date.parse(t.expiresAt) <= Date.now()) return { tone: "neutral", label: "expired" };
  return { tone: "success", label: "active" };
}

export function TokensTable(props: {
  tokens: readonly TokenRecord[];
  onChange: () => void;
  caption: string;
}) {
  const [error, setError] = useState<ApiError>();
  const revoke = (t: TokenRecord): void => {
    if (!window.confirm(`Revoke token ${t.id} of ${t.actor}? Whoever uses it is refused from now on.`))
      return;
    api(`/api/v1/auth/tokens/${t.id}`, { method: "DELETE" })
      .then(props.onChange)
      .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))));
  };
  return (
    <>
      <ProblemAlert error={error} title="Not revoked" />
      <DataTable
        caption={props.caption}
        testId="tokens"
        columns={[
          { header: "Token", render: (t) => <code>{t.id}</code> },
          { header: "Actor", render: (t) => t.actor },
          { header: "Kind", render: (t) => t.kind },
          { header: "Label", render: (t) => t.label ?? "—" },
          { header: "Created", render: (t) => <Time iso={t.createdAt} /> },
          { header: "Expires", render: (t) => <Time iso={t.expiresAt} /> },
          {
            header: "State",
            render: (t) => {
              const s = stateOf(t);
              return <Badge tone={s.tone}>{s.label}</Badge>;
            },
          },
          {
            header: "Action",
            render: (t) =>
              stateOf(t).label === "active" ? (
                <Button variant="danger" onClick={() => revoke(t)} aria-label={`Revoke token ${t.id}`}>
                  Revoke
                </Button>
              ) : null,
          },
        ]}
        rows={props.tokens}
        rowKey={(t) => t.id}
        empty="No tokens."
      />
    </>
  );
}
