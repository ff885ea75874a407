/**
 * A button that fetches a file from the node (a verifiable bundle) and saves it, busy while the
 * node streams it, showing a refusal with its stable code (api.ts) instead of failing silently.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError, download, type Query } from "../api.js";
import { Button, ProblemAlert } from "./index.js";

export function DownloadButton(props: {
  path: string;
  filename: string;
  query?: Query;
  variant?: "primary" | "secondary";
  children: ComponentChildren;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  return (
    <span class="download-button">
      <Button
        variant={props.variant ?? "secondary"}
        busy={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          download(props.path, props.filename, props.query)
            .catch((e: unknown) => setError(e instanceof ApiError ? e : new ApiError(0, "CLIENT", String(e))))
            .finally(() => setBusy(false));
        }}
      >
        {props.children}
      </Button>
      <ProblemAlert error={error} title="The download was refused" />
    </span>
  );
}
