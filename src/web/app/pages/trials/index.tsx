/** The Trials area (docs/web.md). Its pages are routed here, relative to /trials. */
import { Page, Alert } from "../../ui/index.js";

export default function TrialsArea() {
  return (
    <Page title="Trials">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
