/**
 * Numbers as the Mesos master prints them in its messages: stout's
 * `stringify(double)` writes through a default std::ostream, which is printf's
 * `%g` with 6 significant digits ("-1", "0.5", "1e+10", "inf", "nan").
 */
export function stringifyDouble(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, exp] = x.toExponential(5).split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    const digits = Math.abs(e) < 10 ? `0${Math.abs(e)}` : String(Math.abs(e));
    return `${trimZeros(mantissa)}e${e < 0 ? '-' : '+'}${digits}`;
  }
  return trimZeros(x.toFixed(5 - e));
}

function trimZeros(decimal: string): string {
  return decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
}
