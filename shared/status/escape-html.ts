/** What a status page cell, attribute or chart label shows. */
export type Cell = string | number | boolean | null | undefined;

/** Text for HTML (and inline SVG) content and attribute values: every character that could end or start markup, as a numeric reference. */
export function escapeHtml(value: Cell): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
