/**
 * A published analytics table: what the dashboard shows next to each chart and what a
 * CSV export contains, so both always carry the same rows. Pure (no Node, no DOM): the
 * dashboard's client bundle uses it too.
 *
 * A `null` in a column marked `suppressible` is a number withheld by k-anonymity; in
 * any other column it just means "none" (e.g. a kiosk that has never synced).
 */
export type Cell = string | number | null;

export interface TableColumn {
  key: string;
  label: string;
  /** Numbers in this column may be withheld (`null`) for privacy. */
  suppressible?: boolean;
}

export interface Table {
  columns: TableColumn[];
  rows: Cell[][];
}

/** The CSV column that names a row's withheld cells. */
export const SUPPRESSED_COLUMN = 'suppressed';

/** Field quoting per RFC 4180: quote when the field holds a comma, quote, CR or LF. */
function field(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * RFC 4180 CSV: header row, CRLF line ends. Withheld cells are empty and listed by
 * column key in a final `suppressed` column (`;`-separated), so an empty cell is never
 * mistaken for a zero.
 */
export function tableToCsv(t: Table): string {
  const withheld = t.columns.some((c) => c.suppressible);
  const header = t.columns.map((c) => c.key);
  if (withheld) header.push(SUPPRESSED_COLUMN);
  const lines = [header.map(field).join(',')];
  for (const row of t.rows) {
    const out = row.map(field);
    if (withheld) {
      const hidden = t.columns
        .filter((c, i) => c.suppressible && row[i] === null)
        .map((c) => c.key);
      out.push(field(hidden.join(';')));
    }
    lines.push(out.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses RFC 4180 CSV (as written above) back into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
      i++;
    } else cur += ch;
  }
  if (cur !== '' || row.length > 0) {
    row.push(cur);
    rows.push(row);
  }
  return rows;
}
