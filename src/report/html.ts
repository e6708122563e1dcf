// The few HTML building blocks the report needs; every text that reaches the page goes through escapeHtml.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in quoted attribute values. */
export function escapeHtml(text: string | number | boolean | null | undefined): string {
  return String(text ?? '').replace(/[&<>"']/g, (character) => ENTITIES[character]);
}

/** Markup that is already safe (built from escaped parts or rendered SVG) and must not be escaped again. */
export interface SafeHtml {
  readonly html: string;
}

export function raw(html: string): SafeHtml {
  return { html };
}

export type Cell = string | number | SafeHtml | null | undefined;

function cellHtml(cell: Cell): string {
  return typeof cell === 'object' && cell !== null ? cell.html : escapeHtml(cell);
}

export interface TableOptions {
  /** Class names per body row (e.g. "miss"), by row index. */
  rowClass?: (index: number) => string | undefined;
  /** Columns whose cells are numbers, right-aligned. */
  numericColumns?: ReadonlySet<number>;
  caption?: string;
  className?: string;
}

export function table(header: Cell[], rows: Cell[][], options: TableOptions = {}): string {
  const align = (column: number) => (options.numericColumns?.has(column) ? ' class="num"' : '');
  const head = header.map((cell, column) => `<th${align(column)}>${cellHtml(cell)}</th>`).join('');
  const body = rows
    .map((row, index) => {
      const rowClass = options.rowClass?.(index);
      const cells = row.map((cell, column) => `<td${align(column)}>${cellHtml(cell)}</td>`).join('');
      return `<tr${rowClass ? ` class="${escapeHtml(rowClass)}"` : ''}>${cells}</tr>`;
    })
    .join('\n');
  const caption = options.caption ? `<caption>${escapeHtml(options.caption)}</caption>` : '';
  const className = options.className ? ` class="${escapeHtml(options.className)}"` : '';
  return `<table${className}>${caption}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A two-column table of names and values. */
export function definitionTable(entries: [string, Cell][]): string {
  const rows = entries.map(
    ([name, value]) => `<tr><th scope="row">${escapeHtml(name)}</th><td>${cellHtml(value)}</td></tr>`,
  );
  return `<table class="facts"><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

/** One titled part of the report; its id and title also make its entry in the table of contents. */
export interface ReportSection {
  id: string;
  title: string;
  html: string;
}

export function section(id: string, title: string, body: string): ReportSection {
  return { id, title, html: `<section id="${escapeHtml(id)}">\n<h2>${escapeHtml(title)}</h2>\n${body}\n</section>` };
}

export function paragraph(text: string, className?: string): string {
  return `<p${className ? ` class="${escapeHtml(className)}"` : ''}>${escapeHtml(text)}</p>`;
}

export function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}
