/**
 * The Audit area (docs/web.md "Audit"), for auditors and admins: access search, the break-glass
 * review queue, one actor's accesses and AI recall. Routes are relative to /audit.
 */
import { Link, Route, Switch, useLocation, useParams } from "wouter-preact";
import { ActorAccesses } from "./actor.js";
import { AiRecall } from "./ai-recall.js";
import { BreakGlassQueue } from "./break-glass.js";
import { AccessSearch } from "./search.js";

const TABS = [
  { href: "/", label: "Access search" },
  { href: "/break-glass", label: "Break-glass review" },
  { href: "/ai-recall", label: "AI recall" },
] as const;

function AuditNav() {
  const [location] = useLocation();
  return (
    <nav class="audit-nav" aria-label="Audit">
      <ul>
        {TABS.map((t) => (
          <li key={t.href}>
            <Link href={t.href} aria-current={location === t.href ? "page" : undefined}>
              {t.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function ActorRoute() {
  const { id } = useParams<{ id: string }>();
  return <ActorAccesses id={id} />;
}

export default function AuditArea() {
  return (
    <>
      <AuditNav />
      <Switch>
        <Route path="/" component={AccessSearch} />
        <Route path="/break-glass" component={BreakGlassQueue} />
        <Route path="/ai-recall" component={AiRecall} />
        <Route path="/actors/:id" component={ActorRoute} />
        <Route>
          <p class="empty">No such audit page.</p>
        </Route>
      </Switch>
    </>
  );
}
