import type { HttpRow } from '../http.bench';

/** A small SVG bar chart of the HTTP figures: requests/s and Redis commands per request per stack. */
export function httpChart(rows: HttpRow[]): string {
  const width = 760;
  const barHeight = 22;
  const label = 250;
  const panel = (
    title: string,
    y0: number,
    value: (row: HttpRow) => number,
    format: (v: number) => string,
  ) => {
    const max = Math.max(...rows.map(value), 1e-9);
    const bars = rows.map((row, i) => {
      const y = y0 + 28 + i * (barHeight + 8);
      const w = Math.max(1, ((width - label - 90) * value(row)) / max);
      const colors = ['#2f6fde', '#d9822b', '#8a8f98'];
      return (
        `<text x="${label - 8}" y="${y + 15}" text-anchor="end">${escape(row.stack)}</text>` +
        `<rect x="${label}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[i % 3]}"/>` +
        `<text x="${label + w + 6}" y="${y + 15}">${format(value(row))}</text>`
      );
    });
    return `<text x="10" y="${y0 + 16}" font-weight="bold">${escape(title)}</text>${bars.join('')}`;
  };
  const panelHeight = 28 + rows.length * (barHeight + 8) + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelHeight * 2}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    panel(
      'Requests per second (higher is better)',
      0,
      (r) => r.requestsPerSecond,
      (v) => Math.round(v).toLocaleString('en-US'),
    ),
    panel(
      'Redis commands per request (lower is better)',
      panelHeight,
      (r) => r.commandsPerRequest,
      (v) => v.toFixed(3),
    ),
    '</svg>',
  ].join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
