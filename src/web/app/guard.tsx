/** Pages for signed-in people with given roles: others are sent to sign in, or told it is not for them. */
import type { ComponentChildren } from "preact";
import { Redirect } from "wouter-preact";
import { canUse, type Area } from "./nav.js";
import { useSession } from "./session.js";
import { Alert, Loading, Page } from "./ui/index.js";

export function RequireArea(props: { area: Area; children: ComponentChildren }) {
  const { state } = useSession();
  if (state.status === "loading") return <Loading label="Checking your sign-in…" />;
  if (state.status === "signed-out")
    // "~" leaves a nested route's base: sign-in is at the root. The path holds ids, never PHI.
    return <Redirect to={`~/sign-in?next=${encodeURIComponent(window.location.pathname)}`} replace />;
  if (!canUse(state.actor, props.area))
    return (
      <Page title={props.area.label}>
        <Alert tone="warning" title="Not available to your role">
          {props.area.label} is for {props.area.roles.join(", ")}. Your roles:{" "}
          {state.actor.roles.join(", ") || "none"}.
        </Alert>
      </Page>
    );
  return <>{props.children}</>;
}
