// @ts-check
/**
 * The layers of src/ and what each may import (docs/architecture.md, "Layers"): dependencies point
 * inward only, and only the wiring (src/wiring) chooses concrete adapters. ESLint's
 * no-restricted-imports enforces it, so a wrong-way import fails `npm run lint` and CI;
 * test/lint/boundaries.test.ts shows each rule refusing such an import.
 *
 * Tests (*.test.ts) are exempt: a test may build any adapter it exercises.
 */

/** The layer folders a layer must not import, as restricted-import patterns (wherever the import starts). */
const folders = (...names) => names.map((n) => `**/${n}/**`);

/** The same folders for dynamic import(), which no-restricted-imports does not see. */
const folderRegex = (patterns) => {
  const names = patterns.filter((p) => p.startsWith("**/")).map((p) => p.slice(3, -3));
  return names.length === 0 ? undefined : `/(^|\\/)(${names.join("|")})\\//`;
};

/** Shared with eslint.config.js: a no-restricted-syntax list replaces the one before it, so it is repeated here. */
export const NO_ONLY = {
  selector: "CallExpression[callee.property.name='only']",
  message: "no .only in tests",
};

/** Node built-ins and the native and HTTP libraries: the pure layers get their I/O through ports. */
const IO = ["node:*", "fs", "path", "crypto", "better-sqlite3", "fastify", "viem", "viem/*"];

/**
 * Each layer: its files, the folders it must not import, and why. Allowed, for reference:
 *   core → core;  ports → core;  domain → core, ports;  adapters → core, ports, domain;
 *   app → core, ports, domain;  wiring → everything but the edges;
 *   api → core, ports, domain, app;  cli → everything but adapters;  bench → everything but cli;
 *   web → core.
 */
const LAYERS = [
  {
    layer: "core",
    forbidden: [
      ...folders("ports", "domain", "adapters", "app", "wiring", "api", "cli", "bench", "web"),
      ...IO,
    ],
    message:
      "src/core is pure and runs in browsers: no other layer, no Node APIs; inject I/O through its interfaces.",
  },
  {
    layer: "ports",
    forbidden: [...folders("domain", "adapters", "app", "wiring", "api", "cli", "bench", "web"), ...IO],
    message: "src/ports holds interfaces only: it may name core types, nothing else.",
  },
  {
    layer: "domain",
    forbidden: [...folders("adapters", "app", "wiring", "api", "cli", "bench", "web"), ...IO],
    message: "src/domain imports only core and ports; concrete adapters reach it through ports.",
  },
  {
    layer: "adapters",
    forbidden: folders("app", "wiring", "api", "cli", "bench", "web"),
    message: "src/adapters implement ports: they may import core, ports and domain only.",
  },
  {
    layer: "app",
    forbidden: folders("adapters", "wiring", "api", "cli", "bench", "web"),
    message:
      "src/app works on ports: concrete adapters are chosen in src/wiring, and app never imports an edge.",
  },
  {
    layer: "wiring",
    forbidden: folders("api", "cli", "bench", "web"),
    message: "src/wiring builds the node from adapters for the edges; it never imports an edge.",
  },
  {
    layer: "api",
    forbidden: folders("adapters", "wiring", "cli", "bench", "web"),
    message: "src/api is an edge over app and domain: it is handed its ports, it never builds adapters.",
  },
  {
    layer: "cli",
    forbidden: folders("adapters", "web"),
    message: "src/cli gets concrete adapters from src/wiring, never by importing them.",
  },
  {
    layer: "bench",
    forbidden: folders("cli", "web"),
    message: "src/bench measures app, api and adapters; it never imports the command line.",
  },
  {
    layer: "web",
    forbidden: folders("ports", "domain", "adapters", "app", "wiring", "api", "cli", "bench"),
    message: "src/web runs in the browser on the pure core only.",
  },
];

/** Flat-config entries, one per layer. */
export const layerBoundaries = LAYERS.map(({ layer, forbidden, message }) => {
  const dynamic = folderRegex(forbidden);
  return {
    files: [`src/${layer}/**/*.ts`, `src/${layer}/**/*.tsx`],
    ignores: ["src/**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: forbidden, message }] }],
      "no-restricted-syntax": [
        "error",
        NO_ONLY,
        ...(dynamic === undefined
          ? []
          : [{ selector: `ImportExpression[source.value=${dynamic}]`, message }]),
      ],
    },
  };
});
