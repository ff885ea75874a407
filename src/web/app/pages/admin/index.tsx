/**
 * The admin area (docs/web.md "Admin"): node and consortium health, actors (enrol, roles, password
 * reset, key revocation, tokens), and API tokens. Every change is an entry on the log, signed with
 * the admin's key (held by the node) or by the institution, exactly as through the API.
 */
import { Route, Switch } from "wouter-preact";
import { ActorPage } from "./actor.js";
import { ActorsPage } from "./actors.js";
import { HealthPage } from "./health.js";
import { TokensPage } from "./tokens.js";
import { AdminNav } from "./nav.js";

export default function AdminArea() {
  return (
    <>
      <AdminNav />
      <Switch>
        <Route path="/" component={HealthPage} />
        <Route path="/actors" component={ActorsPage} />
        <Route path="/actors/:id">{(p: { id: string }) => <ActorPage id={p.id} />}</Route>
        <Route path="/tokens" component={TokensPage} />
      </Switch>
    </>
  );
}
