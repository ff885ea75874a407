/**
 * The web application (docs/web.md): one page app served by the node on the API's origin. Each
 * area is a folder under pages/ with its own routes, nested under its path here.
 */
import { Route, Switch } from "wouter-preact";
import { RequireArea } from "./guard.js";
import { AREAS, type Area } from "./nav.js";
import AdminArea from "./pages/admin/index.js";
import AuditArea from "./pages/audit/index.js";
import DatasetsArea from "./pages/datasets/index.js";
import ExplorerArea from "./pages/explorer/index.js";
import { Home } from "./pages/home.js";
import { NotFound } from "./pages/not-found.js";
import PatientArea from "./pages/patient/index.js";
import ReadingArea from "./pages/reading/index.js";
import { SignIn } from "./pages/sign-in.js";
import TrialsArea from "./pages/trials/index.js";
import { VerifyPage } from "./pages/verify/verify-page.js";
import { SessionProvider } from "./session.js";
import { Shell } from "./shell.js";

const area = (href: string): Area => AREAS.find((a) => a.href === href)!;

/** An area for signed-in people with its roles, routed relative to its path. */
function Private(props: { href: string; component: () => preact.JSX.Element }) {
  const Component = props.component;
  return (
    <Route path={props.href} nest>
      <RequireArea area={area(props.href)}>
        <Component />
      </RequireArea>
    </Route>
  );
}

export function App() {
  return (
    <SessionProvider>
      <Shell>
        <Switch>
          <Route path="/" component={Home} />
          <Route path="/sign-in" component={SignIn} />
          <Route path="/verify" component={VerifyPage} />
          <Route path="/explorer" nest>
            <ExplorerArea />
          </Route>
          {Private({ href: "/patient", component: PatientArea })}
          {Private({ href: "/reading", component: ReadingArea })}
          {Private({ href: "/audit", component: AuditArea })}
          {Private({ href: "/trials", component: TrialsArea })}
          {Private({ href: "/datasets", component: DatasetsArea })}
          {Private({ href: "/admin", component: AdminArea })}
          <Route component={NotFound} />
        </Switch>
      </Shell>
    </SessionProvider>
  );
}
