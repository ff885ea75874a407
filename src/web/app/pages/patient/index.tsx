/**
 * The patient's area (docs/web.md "Patient"): who looked at my record, and sharing (grants, with the
 * patient's own browser key when they enrolled one). A patient sees only their own record: the node
 * answers every call about another pseudonym with a recorded refusal.
 */
import { Link, Route, Switch, useLocation } from "wouter-preact";
import { AccessPage } from "./access.js";
import { SharingPage } from "./sharing.js";

export default function PatientArea() {
  const [location] = useLocation();
  return (
    <>
      <nav class="subnav" aria-label="My record">
        <Link href="/" aria-current={location === "/" ? "page" : undefined}>
          Who looked at my record
        </Link>
        <Link href="/sharing" aria-current={location === "/sharing" ? "page" : undefined}>
          Sharing
        </Link>
      </nav>
      <Switch>
        <Route path="/" component={AccessPage} />
        <Route path="/sharing" component={SharingPage} />
      </Switch>
    </>
  );
}
