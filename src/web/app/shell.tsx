/** The frame around every page: skip link, menu for this person, who is signed in, sign-out. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { areasFor } from "./nav.js";
import { actorName, useSession } from "./session.js";
import { Button } from "./ui/index.js";

export function Shell(props: { children: ComponentChildren }) {
  const { state, signOut } = useSession();
  const [location, navigate] = useLocation();
  const actor = state.status === "signed-in" ? state.actor : undefined;
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After a navigation, focus moves to the new page's content so keyboard and screen-reader users
  // start there (not on the first page load: the browser's own order is right then).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [location]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          radledger
        </Link>
        <nav aria-label="Main">
          <ul>
            {areasFor(actor).map((a) => (
              <li key={a.href}>
                <Link
                  href={a.href}
                  aria-current={location === a.href || location.startsWith(`${a.href}/`) ? "page" : undefined}
                >
                  {a.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="whoami">
          {actor ? (
            <>
              <span data-testid="whoami">
                {actorName(actor)} <span class="sr-only">signed in as</span>(
                {actor.roles.join(", ") || actor.kind})
              </span>
              <Button
                onClick={() => {
                  void signOut().then(() => navigate("/sign-in"));
                }}
              >
                Sign out
              </Button>
            </>
          ) : state.status === "signed-out" ? (
            <Link href="/sign-in" class="btn btn-secondary">
              Sign in
            </Link>
          ) : null}
        </div>
      </header>
      <main id="main" tabIndex={-1} ref={main}>
        {props.children}
      </main>
      <footer>
        radledger — every access, contribution and consent on a verifiable log. <a href="/api/v1/docs">API</a>
      </footer>
    </>
  );
}
