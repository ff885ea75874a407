/**
 * The Trials area (docs/web.md "Trials"), for trial coordinators, sponsors and the clinical roles
 * that read trials: the trials of this log, a trial with its subjects, and a subject's timeline with
 * every correction. Routed relative to /trials; addresses hold entry ids only, never PHI.
 */
import { Route, Switch } from "wouter-preact";
import { SubjectPage } from "./subject.js";
import { TrialList, TrialPage } from "./trials.js";

export default function TrialsArea() {
  return (
    <Switch>
      <Route path="/">
        <TrialList />
      </Route>
      <Route path="/subjects/:id">{(p: { id: string }) => <SubjectPage id={p.id} />}</Route>
      <Route path="/:id">{(p: { id: string }) => <TrialPage id={p.id} />}</Route>
    </Switch>
  );
}
