/** The Admin area (docs/web.md). Its pages are routed here, relative to /admin. */
import { Page, Alert } from "../../ui/index.js";

export default function AdminArea() {
  return (
    <Page title="Admin">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
