import { percentile } from './stats.ts';

export interface Series {
  label: string;
  samples: readonly number[];
}

const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a'];
const W = 720;
const H = 360;
const PAD = { left: 56, right: 16, top: 36, bottom: 44 };

/**
 * Cumulative distribution of end-to-end latency, one line per room size, with each p50 and p99
 * marked: where most messages land and how long the tail is, on one axis.
 */
export function latencySvg(series: readonly Series[], title: string): string {
  const sorted = series.map((s) => [...s.samples].sort((a, b) => a - b));
  const xMax = niceCeil(Math.max(1, ...sorted.map((s) => percentile(s, 99.9))));
  const x = (ms: number) => PAD.left + (Math.min(ms, xMax) / xMax) * (W - PAD.left - PAD.right);
  const y = (q: number) => H - PAD.bottom - q * (H - PAD.top - PAD.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escape(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const ms = (xMax / 5) * i;
    out.push(`<line x1="${x(ms)}" y1="${y(0)}" x2="${x(ms)}" y2="${y(1)}" stroke="#eee"/>`);
    out.push(`<text x="${x(ms)}" y="${y(0) + 16}" text-anchor="middle">${round(ms)}</text>`);
    const q = i / 5;
    out.push(`<line x1="${x(0)}" y1="${y(q)}" x2="${x(xMax)}" y2="${y(q)}" stroke="#eee"/>`);
    out.push(`<text x="${x(0) - 6}" y="${y(q) + 4}" text-anchor="end">${q * 100}%</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">ms from message_send to message_new at a recipient</text>`);
  sorted.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    // At most ~400 points per line: enough for a smooth curve, small enough to read.
    const step = Math.max(1, Math.floor(s.length / 400));
    const points: string[] = [];
    for (let j = 0; j < s.length; j += step) points.push(`${x(s[j]!).toFixed(1)},${y((j + 1) / s.length).toFixed(1)}`);
    if (s.length > 0) points.push(`${x(s.at(-1)!).toFixed(1)},${y(1).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of [50, 99]) {
      const v = percentile(s, p);
      out.push(`<circle cx="${x(v)}" cy="${y(p / 100)}" r="3" fill="${color}"/>`);
    }
    const label = `${series[i]!.label}: p50 ${round(percentile(s, 50))} ms, p99 ${round(percentile(s, 99))} ms`;
    // Bottom right: by then every curve has climbed to the top.
    const ly = H - PAD.bottom - 16 - (sorted.length - 1 - i) * 18;
    out.push(`<rect x="${W - 300}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${W - 284}" y="${ly}">${escape(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);

function niceCeil(n: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((v) => v >= n)!;
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
