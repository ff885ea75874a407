/**
 * CSV (RFC 4180) for files people open in a spreadsheet: every field quoted, CRLF line ends, and a
 * field that a spreadsheet would run as a formula (starting with = + - @, tab or CR; OWASP "CSV
 * Injection") prefixed with a single quote. Values come from the log and from other people's input.
 */
/** A cell: text, a number or a flag (absent values are empty cells). */
export type Cell = string | number | boolean | undefined | null;

export function csvField(value: Cell): string {
  let text = value === undefined || value === null ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export function csvBlob(header: readonly string[], rows: readonly (readonly Cell[])[]): Blob {
  return new Blob([toCsv(header, rows)], { type: "text/csv;charset=utf-8" });
}
