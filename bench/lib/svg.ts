/**
 * A tiny SVG line chart generator (no dependencies, no browser): panels of
 * x/y series with axes, ticks, a legend; several panels stacked in one file.
 */

export interface Series { name: string; points: Array<[number, number]> }
export interface Panel { title: string; xLabel: string; yLabel: string; series: Series[]; logX?: boolean }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 640;
const H = 300;
const M = { left: 70, right: 20, top: 36, bottom: 48 };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const span = max - min;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(v / 1e3).toPrecision(3)}k`;
  return a >= 10 || v === 0 ? String(Math.round(v)) : v.toPrecision(2);
}

function panel(p: Panel, y0: number): string {
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return `<text x="${M.left}" y="${y0 + 40}">${esc(p.title)}: no data</text>`;
  const tx = (x: number) => (p.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xs = pts.map(([x]) => tx(x));
  let xmin = Math.min(...xs);
  let xmax = Math.max(...xs);
  if (xmin === xmax) { xmin -= 1; xmax += 1; }
  const ymax = Math.max(...pts.map(([, y]) => y)) * 1.1 || 1;
  const ymin = Math.min(0, ...pts.map(([, y]) => y));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((tx(x) - xmin) / (xmax - xmin)) * pw;
  const sy = (y: number) => y0 + M.top + ph - ((y - ymin) / (ymax - ymin)) * ph;
  const out: string[] = [];
  out.push(`<text x="${W / 2}" y="${y0 + 20}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of niceTicks(ymin, ymax)) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  const xTicks = p.logX
    ? [...new Set(pts.map(([x]) => x))].sort((a, b) => a - b)
    : niceTicks(xmin, xmax);
  for (const t of xTicks) out.push(`<text x="${sx(t)}" y="${y0 + M.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(`<text x="${M.left + pw / 2}" y="${y0 + H - 8}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${y0 + M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  const LEGEND_W = Math.min(pw - 10, 20 + 6 * Math.max(...p.series.map((s) => s.name.length)));
  out.push(`<rect x="${M.left + pw - LEGEND_W - 4}" y="${y0 + M.top + 2}" width="${LEGEND_W}" height="${p.series.length * 16 + 6}" fill="white" fill-opacity="0.8"/>`);
  p.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length > 1) out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${good.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of good) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = y0 + M.top + 14 + i * 16;
    const lx = M.left + pw - LEGEND_W;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

export function renderPanels(panels: Panel[]): string {
  const height = panels.length * H;
  const body = panels.map((p, i) => panel(p, i * H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}
