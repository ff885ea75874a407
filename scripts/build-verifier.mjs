// Builds the browser verifier into one self-contained HTML file, dist/web/verifier.html: the pure
// core bundled by esbuild into a Web Worker script, inlined as a string into the page script, itself
// inlined into src/web/verifier/index.html. One file, no requests: it works served by the node
// (GET /verify) and saved to disk.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src/web/verifier");
const common = {
  bundle: true,
  write: false,
  format: "iife",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
};

const worker = await build({ ...common, entryPoints: [join(src, "worker.ts")] });
const page = await build({
  ...common,
  entryPoints: [join(src, "page.ts")],
  define: { __WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
});
// "</script" inside the inlined code would end the element early.
const script = page.outputFiles[0].text.replaceAll("</script", "<\\/script");
const html = readFileSync(join(src, "index.html"), "utf8").replace("/*__PAGE__*/", () => script);
mkdirSync(join(root, "dist/web"), { recursive: true });
writeFileSync(join(root, "dist/web/verifier.html"), html);
console.log(`dist/web/verifier.html: ${html.length} bytes`);
