// What "self-contained and inert" means for a report, as one reusable check.

/** The only URLs a report may hold: the XML namespaces Vega writes on each <svg> element. */
const SVG_NAMESPACES = [' xmlns="http://www.w3.org/2000/svg"', ' xmlns:xlink="http://www.w3.org/1999/xlink"'];

/** Problems that would make the page load something, run something, or depend on a network. */
export function externalReferences(html: string): string[] {
  const problems: string[] = [];
  const svgTags = html.match(/<svg\b[^>]*>/g) ?? [];
  for (const tag of svgTags) {
    for (const namespace of SVG_NAMESPACES) if (!tag.includes(namespace)) problems.push(`<svg> without${namespace}`);
  }
  // Remove the namespaces only where they belong (inside <svg …> tags) and exactly once per tag.
  const withoutNamespaces = html.replace(/<svg\b[^>]*>/g, (tag) =>
    SVG_NAMESPACES.reduce((rest, namespace) => rest.replace(namespace, ''), tag),
  );
  const forbidden: [RegExp, string][] = [
    [/https?:/i, 'http(s) URL'],
    [/<script\b/i, '<script> element'],
    [/<link\b/i, '<link> element'],
    [/<(img|iframe|object|embed|image|use|audio|video|source)\b/i, 'element that loads a resource'],
    [/\s(src|href|xlink:href)\s*=\s*"(?!#)/i, 'src/href to anything but an in-page anchor'],
    [/url\(\s*(?!#)/i, 'CSS url() to anything but an in-page id'],
    [/@import/i, 'CSS @import'],
    [/<[^>]*\son[a-z]+\s*=/i, 'inline event handler'],
    [/javascript:/i, 'javascript: URL'],
  ];
  for (const [pattern, what] of forbidden) {
    const match = pattern.exec(withoutNamespaces);
    if (match) problems.push(`${what}: …${withoutNamespaces.slice(Math.max(0, match.index - 40), match.index + 60)}…`);
  }
  return problems;
}
