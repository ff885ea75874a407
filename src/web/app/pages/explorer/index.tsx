/** The Log explorer area (docs/web.md). Its pages are routed here, relative to /explorer. */
import { Page, Alert } from "../../ui/index.js";

export default function ExplorerArea() {
  return (
    <Page title="Log explorer">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
