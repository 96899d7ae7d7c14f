/** One line of a chart: its name, its points (null: no value there), and how it is drawn. */
export interface Series {
  name: string;
  values: (number | null)[];
  color: string;
  dash?: 'dashed' | 'dotted';
}

export interface LineChart {
  title: string;
  /** Labels of the x positions, evenly spaced (the values they stand for need not be). */
  xLabels: string[];
  xTitle: string;
  yTitle: string;
  yMax: number;
  yFormat: (value: number) => string;
  series: Series[];
  /** A horizontal rule, labelled (for example where a ratio is 1). */
  rule?: { at: number; label: string };
}

/** A small self-contained SVG line chart with a legend, for BENCHMARKS.md. */
export function lineChart(chart: LineChart): string {
  const width = 760;
  const height = 380;
  const left = 64;
  const right = 210;
  const top = 40;
  const bottom = 56;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const x = (i: number) => left + (plotWidth * i) / Math.max(1, chart.xLabels.length - 1);
  const y = (v: number) => top + plotHeight * (1 - Math.min(v, chart.yMax) / chart.yMax);
  const ticks = Array.from({ length: 5 }, (_, i) => (chart.yMax * i) / 4);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="${left}" y="22" font-weight="bold" font-size="14">${escape(chart.title)}</text>`,
    ...ticks.map(
      (v) =>
        `<line x1="${left}" y1="${y(v)}" x2="${left + plotWidth}" y2="${y(v)}" stroke="#e3e3e3"/>` +
        `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${escape(chart.yFormat(v))}</text>`,
    ),
    ...chart.xLabels.map(
      (label, i) =>
        `<text x="${x(i)}" y="${top + plotHeight + 18}" text-anchor="middle">${escape(label)}</text>`,
    ),
    `<text x="${left + plotWidth / 2}" y="${height - 14}" text-anchor="middle">${escape(chart.xTitle)}</text>`,
    `<text x="16" y="${top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + plotHeight / 2})">${escape(chart.yTitle)}</text>`,
  ];
  if (chart.rule) {
    const at = y(chart.rule.at);
    parts.push(
      `<line x1="${left}" y1="${at}" x2="${left + plotWidth}" y2="${at}" stroke="#c0392b" stroke-width="1.5"/>`,
      `<text x="${left + plotWidth - 4}" y="${at - 5}" text-anchor="end" fill="#c0392b">${escape(chart.rule.label)}</text>`,
    );
  }
  chart.series.forEach((series, n) => {
    const points = series.values
      .map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .filter((point): point is string => point !== null);
    const dash = series.dash
      ? { dashed: ' stroke-dasharray="7 4"', dotted: ' stroke-dasharray="2 3"' }[series.dash]
      : '';
    parts.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`,
      ...points.map((point) => {
        const [cx, cy] = point.split(',');
        return `<circle cx="${cx}" cy="${cy}" r="2.5" fill="${series.color}"/>`;
      }),
      `<line x1="${width - right + 16}" y1="${top + 8 + n * 20}" x2="${width - right + 44}" y2="${top + 8 + n * 20}" stroke="${series.color}" stroke-width="2"${dash}/>`,
      `<text x="${width - right + 50}" y="${top + 12 + n * 20}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}
