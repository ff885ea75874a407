/**
 * The V8 flags every `radledger` process runs with: the shebang of src/cli/main.ts carries exactly
 * these (a unit test keeps the two equal), and the benchmarks that start the CLI as a child process
 * pass them too, so they measure the process an operator runs.
 *
 * Why: V8 sizes the heap of a busy process by its allocation rate, not by what it keeps. Appending,
 * a node keeps ≈ 25 MB of live objects on its main thread but let the heap grow to ≈ 125 MB
 * before collecting, and each verification thread likewise; a 1,000,000-entry ingest peaked at
 * ≈ 360 MB of RSS against the 256 MB target (docs/performance.md). With these flags it peaks at ≈ 245 MB for
 * ≈ 8 % fewer entries per second (docs/performance.md, "Memory").
 *
 * Neither flag is a limit, so neither can end a node with an out-of-memory crash (which a
 * `--max-old-space-size` cap could): `--heap-growing-percent=10` makes V8 collect once the heap
 * has grown 10 % past what the last full collection kept, `--max-semi-space-size=4` keeps the
 * young generation at 4 MiB per semi-space. Operators can still add their own flags with
 * NODE_OPTIONS or by starting `node` themselves.
 */
export const NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4", "--heap-growing-percent=10"];
