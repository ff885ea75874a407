/** The Audit area (docs/web.md). Its pages are routed here, relative to /audit. */
import { Page, Alert } from "../../ui/index.js";

export default function AuditArea() {
  return (
    <Page title="Audit">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
