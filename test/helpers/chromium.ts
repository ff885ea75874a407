/** A real Chromium for end-to-end tests (src/bench/chromium.ts, shared with the browser benchmark). */
export { CHROMIUM, launchChromium } from "../../src/bench/chromium.js";
