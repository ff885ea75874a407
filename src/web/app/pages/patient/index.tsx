/** The My record area (docs/web.md). Its pages are routed here, relative to /patient. */
import { Page, Alert } from "../../ui/index.js";

export default function PatientArea() {
  return (
    <Page title="My record">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
