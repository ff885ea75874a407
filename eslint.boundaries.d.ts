// Types of eslint.boundaries.js for the TypeScript code that imports it (test/lint/boundaries.test.ts).
import type { Linter } from "eslint";

export declare const NO_ONLY: { selector: string; message: string };
export declare const layerBoundaries: Linter.Config[];
