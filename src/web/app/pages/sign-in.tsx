/**
 * Sign-in with the actor id and password (POST /api/v1/auth/login, cookie: true). A password an
 * admin set must be replaced by the person's own first (PASSWORD_CHANGE_REQUIRED).
 */
import { useState } from "preact/hooks";
import { useLocation, useSearch } from "wouter-preact";
import { ApiError } from "../api.js";
import { homeOf } from "../nav.js";
import { useSession } from "../session.js";
import { Alert, Button, Form, Page, ProblemAlert, TextField } from "../ui/index.js";

/** Only same-app paths are followed after sign-in (never another site: an open redirect). */
function safeNext(next: string | null): string | undefined {
  return next !== null && /^\/(?!\/)[\w\-./]*$/.test(next) ? next : undefined;
}

export function SignIn() {
  const { signIn, state } = useSession();
  const [, navigate] = useLocation();
  const search = new URLSearchParams(useSearch());
  const [actor, setActor] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [mustChange, setMustChange] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const submit = (): void => {
    setBusy(true);
    setError(undefined);
    signIn(actor.trim(), password, mustChange ? newPassword : undefined)
      .then((me) => navigate(safeNext(search.get("next")) ?? homeOf(me), { replace: true }))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.code === "PASSWORD_CHANGE_REQUIRED") setMustChange(true);
        setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e)));
      })
      .finally(() => setBusy(false));
  };

  return (
    <Page title="Sign in">
      {state.status === "signed-out" && state.reason === "expired" && (
        <Alert tone="warning">Your session ended. Sign in again to continue.</Alert>
      )}
      {error && error.code !== "PASSWORD_CHANGE_REQUIRED" && (
        <ProblemAlert error={error} title="Sign-in failed" />
      )}
      {mustChange && (
        <Alert tone="warning" title="Choose your own password">
          Your password was set by an administrator. Choose a new one (12 characters or more); the log records
          that you set it.
        </Alert>
      )}
      <Form onSubmit={submit} label="Sign in">
        <TextField
          label="Account (actor id)"
          name="actor"
          value={actor}
          onValue={setActor}
          required
          autocomplete="username"
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          value={password}
          onValue={setPassword}
          required
          autocomplete="current-password"
        />
        {mustChange && (
          <TextField
            label="New password"
            name="new-password"
            type="password"
            value={newPassword}
            onValue={setNewPassword}
            required
            minLength={12}
            autocomplete="new-password"
          />
        )}
        <div>
          <Button type="submit" variant="primary" busy={busy}>
            Sign in
          </Button>
        </div>
      </Form>
    </Page>
  );
}
