/**
 * An actor shown by name: the display name as enrolled on the log (GET /api/v1/actors/:id), with
 * the id kept beside it; the id alone while loading or when the node does not show that actor to
 * this viewer (a patient's actor is shown only to themself, admins and auditors — and never cached).
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";

interface ActorView {
  readonly kind?: string;
  readonly displayName?: unknown;
}

/** Names of staff and system actors already fetched in this page load: one request per actor. */
const names = new Map<string, Promise<string | undefined>>();

function nameOf(id: string): Promise<string | undefined> {
  const known = names.get(id);
  if (known) return known;
  const p = api<ActorView>(`/api/v1/actors/${encodeURIComponent(id)}`).then(
    (a) => {
      if (a.kind === "patient") names.delete(id);
      return typeof a.displayName === "string" ? a.displayName : undefined;
    },
    () => {
      names.delete(id); // refused or unknown: ask again next time rather than remember a failure
      return undefined;
    },
  );
  names.set(id, p);
  return p;
}

export function ActorName(props: { id: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => {
    let live = true;
    setName(undefined);
    void nameOf(props.id).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [props.id]);
  if (name === undefined) return <code class="id">{props.id}</code>;
  return (
    <span class="actor-name">
      {name} <code class="id">{props.id}</code>
    </span>
  );
}
