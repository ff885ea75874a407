/** The Worklist area (docs/web.md). Its pages are routed here, relative to /reading. */
import { Page, Alert } from "../../ui/index.js";

export default function ReadingArea() {
  return (
    <Page title="Worklist">
      <Alert tone="info">This area is being built.</Alert>
    </Page>
  );
}
