// Turns a Vega-Lite spec into an SVG string in Node: no browser, no canvas, no network.
import { parse, View, type Loader } from 'vega';
import { compile, type TopLevelSpec, type Config } from 'vega-lite';
import { escapeHtml } from '../html';

const CHART_CONFIG: Config = {
  // Per-mark ARIA labels triple the size of a scatter plot; each chart gets one accessible name instead.
  aria: false,
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  background: 'transparent',
  view: { stroke: '#d0d7de' },
  axis: { labelColor: '#333', titleColor: '#333', gridColor: '#eceff1', domainColor: '#999', tickColor: '#999' },
  legend: { labelColor: '#333', titleColor: '#333', labelLimit: 180 },
  header: { labelColor: '#333', labelFontSize: 11, titleFontSize: 0 },
};

/** Vega's level for errors only: its warnings (such as overlapping labels) are noise in Lambda logs. */
const VEGA_LOG_ERRORS_ONLY = 1;

function refuse(what: string): Promise<never> {
  return Promise.reject(new Error(`The report renders offline: a chart tried to load ${what}`));
}

/** Every chart carries its data inline; any attempt to fetch something is a bug, so it fails loudly. */
const offlineLoader: Loader = {
  load: (uri) => refuse(uri),
  sanitize: (uri) => refuse(uri),
  http: (uri) => refuse(uri),
  file: (filename) => refuse(filename),
};

/** A role="img" SVG with an accessible name; Vega's own output has neither. */
function labelled(svg: string, title: string): string {
  return svg.replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(title)}" `);
}

/** Vega writes coordinates such as 38.499999999999986; two decimals are exact to a hundredth of a pixel. */
function roundAttributeNumbers(svg: string): string {
  return svg.replace(/="[^"]*"/g, (attribute) =>
    attribute.replace(/-?\d+\.\d{3,}/g, (n) => String(Math.round(Number(n) * 100) / 100)),
  );
}

/**
 * Vega numbers clip paths and gradients from a process-wide counter: renamed per chart, the ids are unique within
 * a report (several SVGs share one document) and the same on every render of the same input.
 */
function scopeIds(svg: string, chartId: string): string {
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]);
  const renamed = new Map(ids.map((id, index) => [id, `${chartId}-${index + 1}`]));
  const rename = (id: string) => renamed.get(id) ?? id;
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_, head: string, id: string) => `${head}${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/(href=")#([^"]+)"/g, (_, head: string, id: string) => `${head}#${rename(id)}"`);
}

/** chartId must be unique within the report; it prefixes the SVG's internal ids. */
export async function renderChart(spec: TopLevelSpec, title: string, chartId: string): Promise<string> {
  const vegaSpec = compile(spec, { config: CHART_CONFIG }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none', loader: offlineLoader, logLevel: VEGA_LOG_ERRORS_ONLY });
  try {
    return labelled(scopeIds(roundAttributeNumbers(await view.toSVG()), chartId), title);
  } finally {
    view.finalize();
  }
}
