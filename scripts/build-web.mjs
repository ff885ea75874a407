// Builds the browser code (docs/web.md "Build"):
// - the web application: src/web/app/main.tsx (Preact) and ui/styles.css bundled by esbuild into
//   dist/web/app/assets/<name>-<content hash>.{js,css} — names change when content does, so the node
//   serves them with year-long immutable caching — and dist/web/app/index.html naming them (served
//   for every page of the app with no-cache). No inline script or style: the node's CSP forbids it.
// - the bundle verifier's Web Worker (src/web/verifier/worker.ts, the pure core) as an asset the
//   app's /verify page starts;
// - the standalone verifier, dist/web/verifier.html: the same worker inlined into one HTML file
//   that works saved to disk (file://), for offline verification.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist/web");
const assets = join(out, "app/assets");
const common = {
  bundle: true,
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};

rmSync(join(out, "app"), { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

/** Writes esbuild's in-memory outputs, answering the public path of the first one. */
async function asset(options) {
  const result = await build({
    ...common,
    ...options,
    outdir: assets,
    entryNames: "[name]-[hash]",
    metafile: true,
    write: true,
  });
  return Object.keys(result.metafile.outputs)
    .filter((f) => !f.endsWith(".map"))
    .map((f) => `/assets/${relative(assets, join(root, f))}`);
}

const [workerUrl] = await asset({
  entryPoints: { "verify-worker": join(root, "src/web/verifier/worker.ts") },
  format: "iife",
});
const [appUrl] = await asset({
  entryPoints: { app: join(root, "src/web/app/main.tsx") },
  format: "esm",
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { __VERIFY_WORKER_URL__: JSON.stringify(workerUrl), "process.env.NODE_ENV": '"production"' },
});
const [cssUrl] = await asset({ entryPoints: { app: join(root, "src/web/app/ui/styles.css") } });
const html = readFileSync(join(root, "src/web/app/index.html"), "utf8")
  .replace("/*__CSS__*/", cssUrl)
  .replace("/*__JS__*/", appUrl);
writeFileSync(join(out, "app/index.html"), html);

for (const url of [appUrl, cssUrl, workerUrl]) {
  const bytes = readFileSync(join(out, "app", url));
  console.log(`dist/web/app${url}: ${bytes.length} bytes, ${gzipSync(bytes).length} gzip`);
}

// The standalone verifier: worker inlined as a string, started from a Blob (works from file://).
const src = join(root, "src/web/verifier");
const memory = { ...common, write: false, format: "iife" };
const worker = await build({ ...memory, entryPoints: [join(src, "worker.ts")] });
const page = await build({
  ...memory,
  entryPoints: [join(src, "page.ts")],
  define: { __WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
});
// "</script" inside the inlined code would end the element early.
const script = page.outputFiles[0].text.replaceAll("</script", "<\\/script");
const standalone = readFileSync(join(src, "index.html"), "utf8").replace("/*__PAGE__*/", () => script);
writeFileSync(join(out, "verifier.html"), standalone);
console.log(`dist/web/verifier.html: ${standalone.length} bytes`);
