/** Entry point: mounts the app (scripts/build-web.mjs bundles this into /assets/app-<hash>.js). */
import { render } from "preact";
import { App } from "./app.js";

render(<App />, document.getElementById("app")!);
