/** The start page: signed in, it sends a person to their own area; signed out, it explains and offers sign-in. */
import { Link, Redirect } from "wouter-preact";
import { homeOf } from "../nav.js";
import { useSession } from "../session.js";
import { Loading, Page, Section } from "../ui/index.js";

export function Home() {
  const { state } = useSession();
  if (state.status === "loading") return <Loading />;
  if (state.status === "signed-in") return <Redirect to={homeOf(state.actor)} replace />;
  return (
    <Page
      title="radledger"
      lead="A provenance ledger for radiology: who wrote, saw and allowed what, on a log no one — the hospital included — can quietly rewrite."
    >
      <div class="grid">
        <Section title="Sign in">
          <p>
            Patients, radiologists, auditors, trial and dataset teams and administrators sign in with their
            account.
          </p>
          <Link href="/sign-in" class="btn btn-primary">
            Sign in
          </Link>
        </Section>
        <Section title="Verify a bundle">
          <p>
            Check a report, access history, trial or dataset bundle in your browser — nothing is uploaded.
          </p>
          <Link href="/verify" class="btn btn-secondary">
            Verify
          </Link>
        </Section>
        <Section title="Explore the log">
          <p>The log's signed checkpoints, witnesses and recent entries (no patient data).</p>
          <Link href="/explorer" class="btn btn-secondary">
            Log explorer
          </Link>
        </Section>
      </div>
    </Page>
  );
}
