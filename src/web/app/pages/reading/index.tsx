/** The Worklist area (docs/web.md "Worklist"): its pages, routed relative to /reading. */
import { Route, Switch } from "wouter-preact";
import { NotFound } from "../not-found.js";
import { ReportPage } from "./report.js";
import { Worklist } from "./worklist.js";

export default function ReadingArea() {
  return (
    <Switch>
      <Route path="/">
        <Worklist />
      </Route>
      <Route path="/reports/:id">{(p: { id: string }) => <ReportPage key={p.id} id={p.id} />}</Route>
      <Route component={NotFound} />
    </Switch>
  );
}
