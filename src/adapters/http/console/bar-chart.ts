import { html } from 'ghtml';

/**
 * An inline SVG bar chart rendered on the server: no script, no chart library. Bars are the values in
 * order; labels under the first, the middle and the last bar. Heights are scaled to the largest value.
 */
export interface Bar {
  readonly label: string;
  readonly value: number;
}

const WIDTH = 720;
const HEIGHT = 160;
const AXIS = 20;

export function barChart(title: string, bars: readonly Bar[]): string {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const step = bars.length === 0 ? WIDTH : WIDTH / bars.length;
  const plot = HEIGHT - AXIS;
  const rects = bars.map((bar, i) => {
    const h = Math.round((bar.value / max) * (plot - 12));
    return html`<rect
      x="${(i * step + 1).toFixed(1)}"
      y="${plot - h}"
      width="${Math.max(1, step - 2).toFixed(1)}"
      height="${h}"
      fill="#3b6fd4"
      ><title>${bar.label}: ${bar.value}</title></rect
    >`;
  });
  const marks = [0, Math.floor(bars.length / 2), bars.length - 1]
    .filter((i, k, all) => i >= 0 && all.indexOf(i) === k)
    .map(
      (i) =>
        html`<text x="${(i * step).toFixed(1)}" y="${HEIGHT - 4}" font-size="11" fill="#66707a"
          >${bars[i]!.label}</text
        >`,
    );
  return html`<figure>
    <svg
      role="img"
      aria-label="${title}"
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      width="${WIDTH}"
      height="${HEIGHT}"
      xmlns="http://www.w3.org/2000/svg"
    >
      <line x1="0" y1="${plot}" x2="${WIDTH}" y2="${plot}" stroke="#d8dde3" />
      !${rects}!${marks}
      <text x="${WIDTH - 4}" y="12" font-size="11" text-anchor="end" fill="#66707a">max ${max}</text>
    </svg>
    <figcaption>${title}</figcaption>
  </figure>`;
}
