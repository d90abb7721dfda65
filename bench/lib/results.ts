/**
 * One measured figure as written to bench/results.json: the value, the limit
 * it is compared with (measured in the same run), their ratio, the target and
 * whether it was met.
 */

export interface Target {
  /**
   * 'ratio>=' / 'ratio<=': value/limit at least / at most `value`;
   * 'max<' / 'max<=': value below / at most; 'min>=': at least.
   */
  kind: 'ratio>=' | 'ratio<=' | 'max<' | 'max<=' | 'min>=';
  value: number;
  text: string;
}

export interface Figure {
  /** Stable key, e.g. `offers.10000`. */
  id: string;
  name: string;
  value: number | null;
  unit: string;
  /** The limit measured beside it (same run), or null when the figure has none. */
  limit: number | null;
  limitName?: string;
  /** value / limit when both exist. */
  ratio: number | null;
  target: string | null;
  /** null when there is no target or the figure was not measured. */
  met: boolean | null;
  /** How it was measured, sizes, caveats. */
  notes?: string;
  /** Raw extra numbers (per-trial values, sample counts). */
  detail?: Record<string, unknown>;
}

export function round(n: number, digits = 3): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function figure(spec: {
  id: string; name: string; value: number | null; unit: string; limit?: number | null; limitName?: string;
  target?: Target; notes?: string; detail?: Record<string, unknown>;
}): Figure {
  // A value that could not be computed (NaN) is written as not measured.
  if (spec.value !== null && !Number.isFinite(spec.value)) {
    spec = { ...spec, value: null, notes: `not measured: no finite value (${String(spec.value)})${spec.notes ? `; ${spec.notes}` : ''}` };
  }
  const limit = spec.limit !== undefined && spec.limit !== null && Number.isFinite(spec.limit) ? spec.limit : null;
  const ratio = spec.value !== null && limit !== null && limit > 0 ? round(spec.value / limit, 3) : null;
  let met: boolean | null = null;
  if (spec.target && spec.value !== null) {
    const t = spec.target;
    if (t.kind === 'ratio>=') met = ratio === null ? null : ratio >= t.value;
    else if (t.kind === 'ratio<=') met = ratio === null ? null : ratio <= t.value;
    else if (t.kind === 'max<') met = spec.value < t.value;
    else if (t.kind === 'max<=') met = spec.value <= t.value;
    else met = spec.value >= t.value;
  }
  const out: Figure = {
    id: spec.id, name: spec.name, value: spec.value === null ? null : round(spec.value, 3), unit: spec.unit,
    limit: limit === null ? null : round(limit, 3), ratio, target: spec.target?.text ?? null, met,
  };
  if (spec.limitName !== undefined) out.limitName = spec.limitName;
  if (spec.notes !== undefined) out.notes = spec.notes;
  if (spec.detail !== undefined) out.detail = spec.detail;
  return out;
}

export function notMeasured(id: string, name: string, unit: string, why: string, target?: Target): Figure {
  return { id, name, value: null, unit, limit: null, ratio: null, target: target?.text ?? null, met: null, notes: `not measured: ${why}` };
}

/** Series for the plots, collected by the figure modules. */
export interface PlotSeries {
  chart: string;
  name: string;
  points: Array<[number, number]>;
}

export interface FigureOutput {
  figures: Figure[];
  series?: PlotSeries[];
  /** Lines for RESULTS.md describing the method of this module. */
  method?: string[];
}
