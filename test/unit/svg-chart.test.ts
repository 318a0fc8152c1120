import { describe, expect, it } from 'vitest';
import { barsAndLinesSvg, type BarsAndLines } from '../../shared/status/svg-chart.js';

const chart = (over: Partial<BarsAndLines> = {}): BarsAndLines => ({
  label: 'chat: 9 routed',
  bars: [2, 0, 4, 3],
  lines: [
    { name: 'p50', values: [100, null, 200, 300] },
    { name: 'p95', values: [400, null, null, 800] },
  ],
  barAxis: (max) => `max ${max} / h`,
  lineAxis: (max) => `max ${max} ms`,
  firstSlot: '12:00',
  lastSlot: '15:00 UTC',
  ...over,
});

/** The markup of one line's group. */
const lineGroup = (svg: string, name: string) => new RegExp(`<g class="line" data-line="${name}">(.*?)</g>`).exec(svg)?.[1] ?? '';
const numbers = (s: string, attribute: string) => [...s.matchAll(new RegExp(`${attribute}="([\\d.]+)"`, 'g'))].map((m) => Number(m[1]));

describe('a bars-and-lines SVG chart', () => {
  it('is one svg element with a role and a label, and nothing that loads or runs', () => {
    const svg = barsAndLinesSvg(chart());
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+" width="100%" role="img" aria-label="chat: 9 routed">.*<\/svg>$/s);
    expect(svg.match(/<svg/g)).toHaveLength(1);
    expect(svg).not.toMatch(/<script|<image|<use|<foreignObject|href=|on\w+=/i);
  });

  it('draws a bar for each slot with a positive count only, the tallest for the largest', () => {
    const svg = barsAndLinesSvg(chart());
    const bars = [...svg.matchAll(/<rect class="bar"[^>]*>/g)].map((m) => m[0]);
    expect(bars).toHaveLength(3);
    const heights = bars.map((b) => numbers(b, 'height')[0] ?? 0);
    expect(heights[1]).toBeGreaterThan(heights[2] ?? Infinity);
    expect(heights[2]).toBeGreaterThan(heights[0] ?? Infinity);
    // Each bar says its count to whoever points at it.
    expect(svg).toContain('<title>4</title>');
  });

  it('breaks a line where a value is null, and dots every value so a lone one shows', () => {
    const svg = barsAndLinesSvg(chart());
    const p50 = lineGroup(svg, 'p50');
    const p95 = lineGroup(svg, 'p95');
    // p50: 100 | gap | 200, 300 → two runs; p95: 400 | gap gap | 800 → two lone points.
    expect(/ d="([^"]*)"/.exec(p50)?.[1]?.match(/M/g)).toHaveLength(2);
    expect(/ d="([^"]*)"/.exec(p50)?.[1]?.match(/L/g)).toHaveLength(1);
    expect(/ d="([^"]*)"/.exec(p95)?.[1]).toMatch(/^M[\d. ]+M[\d. ]+$/);
    expect(p50.match(/<circle/g)).toHaveLength(3);
    expect(p95.match(/<circle/g)).toHaveLength(2);
    // The lines share one scale: the largest value (800) sits highest, at the plot's top.
    const top = Math.min(...numbers(svg, 'cy'));
    expect(numbers(p95, 'cy')[1]).toBe(top);
  });

  it('labels its axes with the maxima and its first and last slot', () => {
    const svg = barsAndLinesSvg(chart());
    for (const text of ['max 4 / h', 'max 800 ms', '12:00', '15:00 UTC']) expect(svg).toContain(`>${text}</text>`);
  });

  it('draws no line, and no line axis, when every value is null; nothing at all for no data', () => {
    const svg = barsAndLinesSvg(chart({ bars: [0, 0], lines: [{ name: 'p95', values: [null, null] }] }));
    expect(svg).not.toContain('<rect');
    expect(svg).not.toContain('<path');
    expect(svg).not.toContain('<circle');
    expect(svg).not.toContain(' ms</text>');
    expect(svg).toContain('>max 0 / h</text>');
  });

  it('escapes every text it is given', () => {
    const svg = barsAndLinesSvg(chart({ label: '"><script>x</script>', firstSlot: '<b>', lastSlot: '&', lines: [{ name: '"x', values: [1] }] }));
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('aria-label="&#34;&#62;&#60;script&#62;x&#60;/script&#62;"');
    expect(svg).toContain('data-line="&#34;x"');
    expect(svg).toContain('>&#38;</text>');
  });
});
