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

/**
 * The environment every `radledger` process starts with, set by the same shebang (`env -S NAME=VALUE
 * node …`) because the C library reads it once, before node starts.
 *
 * Why: glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), after
 * which blocks of that size come from the allocating thread's arena and stay in it when freed. Each
 * password check (scrypt, 64 MiB) and token check (16 MiB) runs on one of libuv's pool threads, so
 * after a few logins every pool thread's arena keeps such blocks: a soak of `radledger serve` with
 * a login every 12 s grew from 131 to 236 MiB in a minute and passed 256 MiB within 8 minutes,
 * against 120–123 MiB flat with a fixed 4 MiB threshold (test/e2e/soak.test.ts, docs/performance.md
 * "Soak"). A fixed threshold (mallopt(3) M_MMAP_THRESHOLD) disables the raising: blocks of 4 MiB and
 * more are mapped and unmapped, their memory returned to the system when freed. Other C libraries
 * ignore the variable.
 */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(4 << 20) };
