import { escapeHtml } from './escape-html.js';

/** One line of a chart: a value per slot, null where there is none (the line breaks there). */
export interface ChartLine {
  /** Its name, also its `data-line` (and the page's style hook): `p50`, `p95`, … */
  readonly name: string;
  readonly values: readonly (number | null)[];
}

/** Bars (a count per slot, scaled to their own maximum) and lines (scaled together to theirs) over the same slots. */
export interface BarsAndLines {
  /** What the chart says, for a screen reader (`aria-label`). */
  readonly label: string;
  readonly bars: readonly number[];
  readonly lines: readonly ChartLine[];
  /** The left axis' label, given the bars' maximum: `120 / h`. */
  readonly barAxis: (max: number) => string;
  /** The right axis' label, given the lines' maximum: `2.4 s`. */
  readonly lineAxis: (max: number) => string;
  /** Under the first and the last slot: `12:00`, `11:00 UTC`. */
  readonly firstSlot: string;
  readonly lastSlot: string;
}

const WIDTH = 360;
const HEIGHT = 140;
const PLOT = { left: 4, right: WIDTH - 4, top: 20, bottom: HEIGHT - 20 };
const FONT = 11;

/** The lines' colours in order, readable on white and on a dark background alike. */
const LINE_COLOURS = ['#0d9488', '#ea580c', '#7c3aed'];

const round = (n: number) => Math.round(n * 10) / 10;

/**
 * A small chart as inline SVG: no script, no style sheet, no reference outside itself, every text escaped.
 * It scales to the width it is given (viewBox), its text about 11 px on a phone's 360 px. Colours are
 * presentation attributes the page's CSS may override (dark mode); text is `currentColor`.
 * Only slots with a positive count get a bar; each line is a path broken where a value is null, with a
 * dot on every value so a lone value shows too.
 */
export function barsAndLinesSvg(chart: BarsAndLines): string {
  const slots = Math.max(chart.bars.length, ...chart.lines.map((l) => l.values.length), 1);
  const slot = (PLOT.right - PLOT.left) / slots;
  const centre = (i: number) => round(PLOT.left + slot * (i + 0.5));
  const height = PLOT.bottom - PLOT.top;
  const barMax = Math.max(0, ...chart.bars);
  const lineValues = chart.lines.flatMap((l) => l.values.filter((v): v is number => v !== null));
  const lineMax = Math.max(0, ...lineValues);
  const y = (v: number, max: number) => round(PLOT.bottom - (max > 0 ? (v / max) * height : 0));

  const bars = chart.bars
    .map((count, i) => {
      if (!(count > 0)) return '';
      const top = y(count, barMax);
      return `<rect class="bar" x="${round(PLOT.left + slot * i + slot * 0.15)}" y="${top}" width="${round(slot * 0.7)}" height="${round(PLOT.bottom - top)}" fill="#9cc3e6"><title>${escapeHtml(count)}</title></rect>`;
    })
    .join('');

  const lines = chart.lines
    .map((line, n) => {
      const colour = LINE_COLOURS[n % LINE_COLOURS.length];
      let d = '';
      let drawing = false;
      const dots: string[] = [];
      line.values.forEach((v, i) => {
        if (v === null) return void (drawing = false);
        d += `${drawing ? 'L' : 'M'}${centre(i)} ${y(v, lineMax)}`;
        drawing = true;
        dots.push(`<circle cx="${centre(i)}" cy="${y(v, lineMax)}" r="2" fill="${colour}"/>`);
      });
      const path = d ? `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2" stroke-linejoin="round"/>` : '';
      return `<g class="line" data-line="${escapeHtml(line.name)}">${path}${dots.join('')}</g>`;
    })
    .join('');

  const text = (x: number, yy: number, anchor: 'start' | 'end', value: string) =>
    `<text x="${x}" y="${yy}" text-anchor="${anchor}" font-size="${FONT}" fill="currentColor">${escapeHtml(value)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="${escapeHtml(chart.label)}">`,
    `<line x1="${PLOT.left}" y1="${PLOT.bottom}" x2="${PLOT.right}" y2="${PLOT.bottom}" stroke="currentColor" stroke-opacity="0.4"/>`,
    `<line x1="${PLOT.left}" y1="${PLOT.top}" x2="${PLOT.right}" y2="${PLOT.top}" stroke="currentColor" stroke-opacity="0.15" stroke-dasharray="3 3"/>`,
    bars,
    lines,
    text(PLOT.left, PLOT.top - 6, 'start', chart.barAxis(barMax)),
    lineValues.length ? text(PLOT.right, PLOT.top - 6, 'end', chart.lineAxis(lineMax)) : '',
    text(PLOT.left, HEIGHT - 5, 'start', chart.firstSlot),
    text(PLOT.right, HEIGHT - 5, 'end', chart.lastSlot),
    '</svg>',
  ].join('');
}
