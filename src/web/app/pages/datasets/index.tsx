/** The Datasets area (docs/web.md). Its pages are routed here, relative to /datasets. */
import { Page, Alert } from "../../ui/index.js";

export default function DatasetsArea() {
  return (
    <Page title="Datasets">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
