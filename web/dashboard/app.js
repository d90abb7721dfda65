// The dashboard of mesos-http-scheduler: jobs, the tasks of their rounds in flight,
// their run history and the live state charts, from the status port's API
// (/api/...) and its live stream (/api/events). Bundled with preact and htm
// into the package by scripts/build-dashboard.ts; it loads nothing from
// anywhere but the page's own origin.
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);
const TOKEN_KEY = 'mesos-http-scheduler.token';
const PAGE = 100;
const MACHINES = ['framework', 'job', 'task'];

// ---------------------------------------------------------------------------
// Talking to the API

class Unauthorized extends Error {}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), ...authHeaders() } });
  if (res.status === 401) throw new Unauthorized('the API asks for a token');
  const json = (res.headers.get('content-type') ?? '').includes('json');
  const body = json ? await res.json() : await res.text();
  if (!res.ok) {
    const error = new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
    error.code = body?.error?.code;
    throw error;
  }
  return body;
}

const jobPath = (name) => `api/jobs/${encodeURIComponent(name)}`;

/** Reads the server-sent events of /api/events with fetch (so the token can go in a header); reconnects. */
function useLiveStream(enabled, onEvent) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!enabled) return undefined;
    let stopped = false;
    let abort;
    (async () => {
      let delay = 500;
      while (!stopped) {
        abort = new AbortController();
        try {
          const res = await fetch('api/events', { headers: authHeaders(), signal: abort.signal });
          if (res.status === 401) {
            handler.current('unauthorized');
            return;
          }
          if (!res.ok || !res.body) throw new Error(`live stream: ${res.status}`);
          handler.current('open');
          delay = 500;
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let event = 'message';
              let data = '';
              for (const line of block.split('\n')) {
                if (line.startsWith('event: ')) event = line.slice(7);
                else if (line.startsWith('data: ')) data += line.slice(6);
              }
              if (data !== '') handler.current(event, JSON.parse(data));
            }
          }
        } catch {
          if (stopped) return;
        }
        handler.current('closed');
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    })();
    return () => {
      stopped = true;
      abort?.abort();
    };
  }, [enabled]);
}

/** Calls `fn` at most once per `ms`, the last call winning. */
function useThrottle(fn, ms) {
  const state = useRef({ timer: undefined, fn });
  state.current.fn = fn;
  useEffect(() => () => clearTimeout(state.current.timer), []);
  return useCallback(() => {
    if (state.current.timer !== undefined) return;
    state.current.timer = setTimeout(() => {
      state.current.timer = undefined;
      state.current.fn();
    }, ms);
  }, [ms]);
}

// ---------------------------------------------------------------------------
// Small pieces

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : '');

function duration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 100) / 10;
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function Badge({ value }) {
  return html`<span class=${`badge s-${value}`}>${value}</span>`;
}

function Countdown({ until }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!until) return html`<span class="muted">—</span>`;
  const left = Math.max(0, Math.ceil((Date.parse(until) - Date.now()) / 1000));
  return html`<span title=${dateTime(until)}>in ${left} s</span>`;
}

/** Recent rounds: bar height = duration, colour = outcome. */
function Sparkline({ runs }) {
  const width = 160;
  const height = 32;
  if (runs.length === 0) return html`<svg class="sparkline" width=${width} height=${height}></svg>`;
  const max = Math.max(1, ...runs.map((r) => r.durationMs ?? 0));
  const bar = width / Math.max(runs.length, 10);
  const colour = { succeeded: '#1a7f37', failed: '#cf222e', killed: '#9a6700', running: '#0969da', interrupted: '#8c959f' };
  return html`<svg class="sparkline" width=${width} height=${height} role="img" aria-label="recent rounds">
    ${runs.map((r, i) => {
      const v = r.durationMs === null ? max / 3 : Math.max(2, (r.durationMs / max) * (height - 2));
      return html`<rect x=${i * bar + 1} y=${height - v} width=${Math.max(1, bar - 2)} height=${v} fill=${colour[r.outcome] ?? '#8c959f'}>
        <title>run ${r.run} (round ${r.round}): ${r.outcome}${r.durationMs === null ? '' : `, ${duration(r.durationMs)}`}</title></rect>`;
    })}
  </svg>`;
}

function TokenForm({ onSaved, wrong }) {
  const [value, setValue] = useState('');
  const save = (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, value.trim());
    onSaved();
  };
  return html`<section>
    <h2>Token</h2>
    <form class="token" onSubmit=${save}>
      <span>${wrong ? 'That token was refused. ' : ''}This scheduler's API needs its token (the contents of <code>--http-token-file</code>):</span>
      <input type="password" name="token" autocomplete="off" value=${value} onInput=${(e) => setValue(e.target.value)} />
      <button class="primary" type="submit">Use token</button>
    </form>
    <p class="muted">It is kept in this tab's session storage only.</p>
  </section>`;
}

// ---------------------------------------------------------------------------
// Jobs

function JobList({ jobs, selected, onSelect }) {
  return html`<section>
    <h2>Jobs</h2>
    <div class="jobs">
      ${jobs.map((job) => html`<div class=${`job${job.name === selected ? ' selected' : ''}`} data-job=${job.name} onClick=${() => onSelect(job.name)}>
        <span class="name">${job.name}</span>
        <span><${Badge} value=${job.state} /></span>
        <span>${(job.roundsInFlight?.length ?? 0) > 1 ? `rounds ${job.roundsInFlight.map((r) => r.round).join(', ')} at once` : `round ${job.round}`}${job.definition.rounds > 0 ? ` of ${job.definition.rounds}` : ''}</span>
        <span>next start: ${job.state === 'cooldown' ? html`<${Countdown} until=${job.nextStartAt} />` : html`<span class="muted">${job.state === 'running' ? 'running now' : '—'}</span>`}</span>
        <${Sparkline} runs=${job.recentRuns} />
      </div>`)}
    </div>
  </section>`;
}

function Controls({ job, onDone }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  if (!job.controls) return null;
  const call = async (action) => {
    if (action === 'kill' && !confirm(`Kill the running tasks of ${job.name}?`)) return;
    setBusy(true);
    try {
      const result = await api(`${jobPath(job.name)}/${action}`, { method: 'POST' });
      setNote(result.message ?? '');
    } catch (error) {
      setNote(error instanceof Unauthorized ? 'the token was refused' : error.message);
    } finally {
      setBusy(false);
      onDone();
    }
  };
  return html`<span class="controls">
    <button class="primary" data-action="run" disabled=${busy} onClick=${() => call('run')}>Run now</button>
    ${job.state === 'paused'
      ? html`<button data-action="resume" disabled=${busy} onClick=${() => call('resume')}>Resume</button>`
      : html`<button data-action="pause" disabled=${busy} onClick=${() => call('pause')}>Pause</button>`}
    <button class="danger" data-action="kill" disabled=${busy} onClick=${() => call('kill')}>Kill</button>
    <span class="muted note">${note}</span>
  </span>`;
}

// ---------------------------------------------------------------------------
// Tasks of the rounds in flight (one, or several with `concurrency: allow`): paged on the server, so a round of 100,000 tasks costs one page

function Output({ output }) {
  if (!output) return html`<span class="muted">—</span>`;
  if (output.sandbox) return html`<a href=${output.sandbox} target="_blank" rel="noreferrer">sandbox</a>`;
  return html`<a href=${output.stdout} target="_blank">stdout</a> · <a href=${output.stderr} target="_blank">stderr</a>`;
}

function Tasks({ job, page, filter, offset, setView }) {
  const filters = ['all', 'active', 'finished', 'failed'];
  const total = page?.total ?? 0;
  return html`<section data-section="tasks">
    ${(page?.rounds?.length ?? 0) > 1
      ? html`<h2>Rounds ${page.rounds.join(', ')} <span class="muted">tasks of the rounds in flight (concurrency allow)</span></h2>`
      : html`<h2>Round ${page?.round ?? '—'} <span class="muted">tasks of the current round (run ${page?.run ?? '—'})</span></h2>`}
    <div class="tabs">
      ${filters.map((f) => html`<button class=${f === filter ? 'on' : ''} data-filter=${f} onClick=${() => setView({ filter: f, offset: 0 })}>${f}</button>`)}
      <span class="muted">${Object.entries(job.tasks?.states ?? {}).map(([s, n]) => `${s.replace('TASK_', '').toLowerCase()} ${n}`).join(' · ')}</span>
    </div>
    <table>
      <thead><tr><th>task</th><th>round</th><th>state</th><th>agent</th><th>launched</th><th>updated</th><th>message</th><th>output</th></tr></thead>
      <tbody>
        ${(page?.tasks ?? []).map((t) => html`<tr data-task=${t.taskId} data-state=${t.state}>
          <td class="mono">${t.taskId}</td>
          <td>${t.round}</td>
          <td><${Badge} value=${t.state} /></td>
          <td class="mono muted">${t.agentId ?? ''}</td>
          <td>${time(t.launchedAt)}</td>
          <td>${time(t.endedAt ?? t.updatedAt)}</td>
          <td class=${t.ok === false ? 'message' : 'muted'}>${t.ok === false ? [t.message, t.reason].filter(Boolean).join(' — ') : t.message ?? ''}</td>
          <td><${Output} output=${t.output} /></td>
        </tr>`)}
      </tbody>
    </table>
    <div class="pager">
      <button disabled=${offset === 0} onClick=${() => setView({ filter, offset: Math.max(0, offset - PAGE) })}>previous</button>
      <span>${total === 0 ? 'no tasks' : `${offset + 1}–${Math.min(total, offset + PAGE)} of ${total}`}</span>
      <button disabled=${offset + PAGE >= total} onClick=${() => setView({ filter, offset: offset + PAGE })}>next</button>
    </div>
  </section>`;
}

// ---------------------------------------------------------------------------
// History

function RunDetail({ run }) {
  return html`<div class="detail" data-run-detail=${run.run}>
    <div>run ${run.run}, round ${run.round}: <${Badge} value=${run.outcome} /> started ${dateTime(run.startedAt)}${run.endedAt ? `, ended ${dateTime(run.endedAt)}` : ''}
      ${run.frameworkId ? html` <span class="muted">framework <code>${run.frameworkId}</code></span>` : ''}</div>
    <div>${run.tasks} tasks: ${run.launched} launched, ${run.finished} finished, ${run.failed} failed, ${run.retried} retried</div>
    ${run.failures.length > 0 ? html`<table>
      <thead><tr><th>failed task</th><th>state</th><th>reason</th><th>source</th><th>agent</th><th>message</th></tr></thead>
      <tbody>${run.failures.map((f) => html`<tr>
        <td class="mono">${f.taskId}</td><td><${Badge} value=${f.state} /></td><td>${f.reason ?? ''}</td><td>${f.source ?? ''}</td>
        <td class="mono muted">${f.agentId ?? ''}</td><td class="message">${f.message ?? ''}</td></tr>`)}</tbody>
    </table>` : ''}
    ${run.failuresNotListed > 0 ? html`<div class="muted">and ${run.failuresNotListed} more failed tasks</div>` : ''}
  </div>`;
}

function History({ runs, selected, onSelect }) {
  return html`<section data-section="history">
    <h2>History <span class="muted">the last ${runs.limit} rounds</span></h2>
    <table>
      <thead><tr><th>run</th><th>round</th><th>started</th><th>duration</th><th>outcome</th><th>finished</th><th>failed</th><th>retried</th></tr></thead>
      <tbody>
        ${runs.runs.map((r) => html`<tr class=${`clickable${r.run === selected ? ' selected' : ''}`} data-run=${r.run} onClick=${() => onSelect(r.run === selected ? undefined : r.run)}>
          <td>${r.run}</td><td>${r.round}</td><td>${dateTime(r.startedAt)}</td><td>${duration(r.durationMs)}</td>
          <td><${Badge} value=${r.outcome} /></td><td>${r.finished}</td><td>${r.failed}</td><td>${r.retried}</td>
        </tr>`)}
      </tbody>
    </table>
    ${selected !== undefined && runs.runs.find((r) => r.run === selected) ? html`<${RunDetail} run=${runs.runs.find((r) => r.run === selected)} />` : ''}
  </section>`;
}

// ---------------------------------------------------------------------------
// Live state charts: the SVGs generated from the machines, their active states lit

function Chart({ machine, active }) {
  const box = useRef(null);
  const [svg, setSvg] = useState('');
  useEffect(() => {
    fetch(`assets/charts/${machine}.svg`).then((r) => r.text()).then((text) => setSvg(text.slice(text.indexOf('<svg'))));
  }, [machine]);
  useEffect(() => {
    const root = box.current;
    if (!root || svg === '') return;
    const counts = machine === 'task' ? active?.task ?? {} : Object.fromEntries((active?.[machine] ?? []).map((id) => [id, 0]));
    const lit = new Set(Object.keys(counts));
    const ancestors = new Set();
    for (const id of lit) {
      const parts = id.split('.');
      for (let i = 1; i < parts.length; i++) ancestors.add(`cluster_${parts.slice(0, i).join('.')}`);
    }
    root.querySelectorAll('text.count').forEach((t) => t.remove());
    for (const g of root.querySelectorAll('g.node, g.cluster')) {
      const title = g.querySelector(':scope > title')?.textContent ?? '';
      const on = lit.has(title) || ancestors.has(title);
      g.classList.toggle('active', on);
      if (on && machine === 'task' && lit.has(title) && counts[title] > 0) {
        const shape = g.querySelector('path, polygon');
        if (shape) {
          const b = shape.getBBox();
          const text = document.createElementNS('http://www.w3.org/2000/svg', 'text');
          text.setAttribute('class', 'count');
          text.setAttribute('x', String(b.x + b.width + 3));
          text.setAttribute('y', String(b.y + 11));
          text.textContent = `×${counts[title]}`;
          g.appendChild(text);
        }
      }
    }
  }, [svg, active, machine]);
  return html`<div class="chart" data-chart=${machine}>
    <h3>${machine}</h3>
    <div ref=${box} dangerouslySetInnerHTML=${{ __html: svg }}></div>
  </div>`;
}

function Charts({ active }) {
  return html`<section data-section="charts">
    <h2>State charts <span class="muted">live: the active states are lit${active?.task && Object.keys(active.task).length ? ', with the number of tasks in each' : ''}</span></h2>
    <div class="charts">${MACHINES.map((m) => html`<${Chart} machine=${m} active=${active} />`)}</div>
  </section>`;
}

// ---------------------------------------------------------------------------

function App() {
  const [auth, setAuth] = useState('unknown'); // unknown | ok | needed | wrong
  const [jobs, setJobs] = useState([]);
  const [selected, setSelected] = useState(undefined);
  const [job, setJob] = useState(undefined);
  const [runs, setRuns] = useState({ limit: 0, runs: [] });
  const [run, setRun] = useState(undefined);
  const [view, setView] = useState({ filter: 'all', offset: 0 });
  const [page, setPage] = useState(undefined);
  const [active, setActive] = useState(undefined);
  const [live, setLive] = useState(false);
  const [error, setError] = useState('');

  const guard = useCallback(async (work) => {
    try {
      await work();
      setError('');
      setAuth('ok');
    } catch (e) {
      if (e instanceof Unauthorized) setAuth(sessionStorage.getItem(TOKEN_KEY) ? 'wrong' : 'needed');
      else setError(e.message);
    }
  }, []);

  // A job a reload removed (and that is forgotten) is no longer there: show the first.
  const name = selected !== undefined && jobs.some((j) => j.name === selected) ? selected : jobs[0]?.name;
  const loadJobs = useCallback(() => guard(async () => setJobs((await api('api/jobs')).jobs)), [guard]);
  const loadJob = useCallback(() => name && guard(async () => {
    const [detail, history] = await Promise.all([api(jobPath(name)), api(`${jobPath(name)}/runs`)]);
    setJob(detail);
    setRuns(history);
  }), [guard, name]);
  const loadPage = useCallback(() => name && guard(async () => {
    setPage(await api(`${jobPath(name)}/tasks?offset=${view.offset}&limit=${PAGE}&filter=${view.filter}`));
  }), [guard, name, view]);
  const refreshAll = useCallback(() => {
    loadJobs();
    loadJob();
    loadPage();
  }, [loadJobs, loadJob, loadPage]);

  useEffect(() => { loadJobs(); }, [loadJobs, auth === 'ok']);
  useEffect(() => { loadJob(); }, [loadJob]);
  useEffect(() => { loadPage(); }, [loadPage]);
  useEffect(() => {
    const timer = setInterval(refreshAll, 10_000);
    return () => clearInterval(timer);
  }, [refreshAll]);

  const onRunEvent = useThrottle(() => { loadJobs(); loadJob(); }, 300);
  const onTaskEvent = useThrottle(() => { loadPage(); loadJob(); }, 300);
  useLiveStream(auth === 'ok', (event, data) => {
    if (event === 'open') setLive(true);
    else if (event === 'closed') setLive(false);
    else if (event === 'unauthorized') setAuth('wrong');
    else if (event === 'hello' || event === 'machines') setActive(data);
    else if (event === 'run') {
      onRunEvent();
      onTaskEvent();
    } else if (event === 'tasks') onTaskEvent();
    else if (event === 'jobs') onRunEvent();
  });

  const askToken = auth === 'needed' || auth === 'wrong';
  return html`<div>
    <header>
      <h1>mesos-http-scheduler</h1>
      ${job ? html`<span class="muted">framework <code>${job.framework.id ?? '—'}</code> at ${job.framework.master ?? '—'}
        ${job.framework.subscribed ? html` <${Badge} value="subscribed" />` : html` <span class="badge s-failed">not subscribed</span>`}</span>` : ''}
      <span class="spacer"></span>
      <span class=${`live ${live ? 'on' : 'off'}`}>${live ? 'live' : 'not live'}</span>
      ${sessionStorage.getItem(TOKEN_KEY) ? html`<button onClick=${() => { sessionStorage.removeItem(TOKEN_KEY); setAuth('needed'); }}>forget token</button>` : ''}
    </header>
    <main>
      ${askToken ? html`<${TokenForm} wrong=${auth === 'wrong'} onSaved=${() => { setAuth('unknown'); refreshAll(); }} />` : ''}
      ${error ? html`<p class="error">${error}</p>` : ''}
      ${jobs.length > 0 ? html`<${JobList} jobs=${jobs} selected=${name} onSelect=${(n) => { setSelected(n); setRun(undefined); setView({ filter: 'all', offset: 0 }); }} />` : ''}
      ${job ? html`<section data-section="job">
        <h2>${job.name} <${Badge} value=${job.state} /> <${Controls} job=${job} onDone=${refreshAll} /></h2>
        <div class="mono muted">${job.definition.cmd}</div>
        <div class="muted">${job.definition.maxTasks} tasks per round · ${job.definition.cpus} CPU · ${job.definition.memMb} MB · cooldown ${job.definition.waitSeconds} s${job.definition.rounds > 0 ? ` · ${job.definition.rounds} rounds` : ''}</div>
        ${job.currentRun?.failed > 0 ? html`<div class="message">this round: ${job.currentRun.failed} failed so far</div>` : ''}
      </section>` : ''}
      ${job ? html`<${Tasks} job=${job} page=${page} filter=${view.filter} offset=${view.offset} setView=${setView} />` : ''}
      ${auth === 'ok' ? html`<${Charts} active=${active} />` : ''}
      ${job ? html`<${History} runs=${runs} selected=${run} onSelect=${setRun} />` : ''}
    </main>
  </div>`;
}

const mount = document.getElementById('app');
mount.textContent = '';
render(html`<${App} />`, mount);
