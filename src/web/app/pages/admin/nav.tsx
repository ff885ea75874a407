import { Link, useLocation } from "wouter-preact";

const LINKS = [
  ["/", "Node health"],
  ["/actors", "Actors"],
  ["/tokens", "API tokens"],
] as const;

/** The admin area's own tabs. */
export function AdminNav() {
  const [location] = useLocation();
  return (
    <nav class="subnav" aria-label="Admin">
      {LINKS.map(([href, label]) => (
        <Link
          key={href}
          href={href}
          aria-current={(href === "/" ? location === "/" : location.startsWith(href)) ? "page" : undefined}
        >
          {label}
        </Link>
      ))}
    </nav>
  );
}
