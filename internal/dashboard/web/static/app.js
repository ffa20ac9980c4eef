// infergate live dashboard: polls /dashboard/api/state once a second and
// draws everything with plain DOM and SVG. Data is only ever inserted as
// text (textContent), never as HTML: model names come from clients.
'use strict';

(function () {
  const STATE_URL = '/dashboard/api/state';
  const POLL_MS = 1000;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MAX_DECISIONS = 20;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function fmt(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    if (digits === undefined) digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
    return x.toFixed(digits);
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s)) return '–';
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 1 : 0) + ' ms';
    return s.toFixed(s < 10 ? 2 : 1) + ' s';
  }

  // fmtSpan formats a time span for the x axis.
  function fmtSpan(ms) {
    const s = Math.round(ms / 1000);
    if (s < 120) return s + ' s';
    const m = s / 60;
    return (Number.isInteger(m) ? m : m.toFixed(1)) + ' min';
  }

  function pct(x) { return fmt(100 * x, 1) + '%'; }

  // niceMax rounds v up to 1, 2 or 5 times a power of ten.
  function niceMax(v, floor) {
    v = Math.max(v, floor);
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // drawChart renders lines (and an area under the first) into an SVG.
  // lines: [{values: [number|null], cls}], times: [ms], windowMs: span.
  function drawChart(node, times, lines, opts) {
    clear(node);
    const W = 480, H = 180, L = 46, R = 10, T = 10, B = 22;
    const pw = W - L - R, ph = H - T - B;
    const end = times.length ? times[times.length - 1] : Date.now();
    const start = end - opts.windowMs;
    let top = 0;
    for (const line of lines) for (const v of line.values) if (v !== null && v > top) top = v;
    const yMax = niceMax(top, opts.floor);
    const x = t => L + Math.max(0, (t - start) / opts.windowMs) * pw;
    const y = v => T + ph - (v / yMax) * ph;

    for (const f of [0, 0.5, 1]) {
      const gy = T + ph - f * ph;
      node.appendChild(svg('line', { class: 'grid', x1: L, x2: W - R, y1: gy, y2: gy }));
      node.appendChild(svg('text', { class: 'axis', x: L - 6, y: gy + 4, 'text-anchor': 'end' }, opts.label(f * yMax)));
    }
    node.appendChild(svg('text', { class: 'axis', x: L, y: H - 6 }, '−' + fmtSpan(opts.windowMs)));
    node.appendChild(svg('text', { class: 'axis', x: L + pw / 2, y: H - 6, 'text-anchor': 'middle' }, '−' + fmtSpan(opts.windowMs / 2)));
    node.appendChild(svg('text', { class: 'axis', x: W - R, y: H - 6, 'text-anchor': 'end' }, 'now'));

    let drawn = 0;
    lines.forEach((line, i) => {
      let d = '', pen = false, first = null, last = null;
      line.values.forEach((v, j) => {
        if (v === null || v === undefined || times[j] < start) { pen = false; return; }
        const px = x(times[j]).toFixed(1), py = y(v).toFixed(1);
        d += (pen ? 'L' : 'M') + px + ' ' + py + ' ';
        pen = true;
        if (first === null) first = px;
        last = px;
        drawn++;
      });
      if (!d) return;
      if (i === 0 && opts.area) {
        const base = (T + ph).toFixed(1);
        node.appendChild(svg('path', { class: 'area ' + line.cls, d: d + 'L' + last + ' ' + base + ' L' + first + ' ' + base + ' Z' }));
      }
      node.appendChild(svg('path', { class: 'series ' + line.cls, d: d.trim() }));
    });
    node.setAttribute('data-points', String(drawn));
    if (!drawn) {
      node.appendChild(svg('text', { class: 'empty', x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle' }, opts.empty));
    }
  }

  function recentAverage(values, n) {
    const tail = values.slice(-n).filter(v => v !== null);
    if (!tail.length) return null;
    return tail.reduce((a, b) => a + b, 0) / tail.length;
  }

  function renderCharts(series) {
    const pts = series.points;
    const times = pts.map(p => p.t);
    // The x axis spans the samples held, at least one minute and at most
    // five, so a fresh gateway's first seconds are not squeezed to the edge.
    const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
    const windowMs = Math.min(300000, Math.max(60000, Math.ceil(span / 30000) * 30000));
    const rates = pts.map(p => p.requestRate);
    const errors = pts.map(p => p.errorRate);
    drawChart(document.getElementById('chart-requests'), times, [{ values: rates, cls: 's0' }],
      { windowMs, floor: 1, area: true, label: v => fmt(v), empty: 'waiting for samples…' });
    drawChart(document.getElementById('chart-errors'), times, [{ values: errors, cls: 'bad' }],
      { windowMs, floor: 1, area: true, label: v => fmt(v), empty: 'waiting for samples…' });
    drawChart(document.getElementById('chart-latency'), times, [
      { values: pts.map(p => p.p50), cls: 's0' },
      { values: pts.map(p => p.p90), cls: 's1' },
      { values: pts.map(p => p.p99), cls: 's2' },
    ], { windowMs, floor: 0.01, label: v => fmtSeconds(v), empty: 'no finished requests yet' });

    const avgRate = recentAverage(rates, 10), avgErr = recentAverage(errors, 10);
    document.getElementById('value-requests').textContent = avgRate === null ? '–' : fmt(avgRate) + ' /s';
    document.getElementById('value-errors').textContent = avgErr === null ? '–' : fmt(avgErr) + ' /s';
    const lastLatency = pts.length ? pts[pts.length - 1] : null;
    document.getElementById('value-latency').textContent = lastLatency && lastLatency.p50 !== null
      ? 'p50 ' + fmtSeconds(lastLatency.p50) + ' · p99 ' + fmtSeconds(lastLatency.p99) : '–';
    document.getElementById('total-requests').textContent =
      Math.round(series.requestsTotal).toLocaleString('en-US') + ' requests since start · 10 s average above';
    const share = series.requestsTotal > 0 ? ' (' + pct(series.errorsTotal / series.requestsTotal) + ' of requests)' : '';
    document.getElementById('total-errors').textContent =
      Math.round(series.errorsTotal).toLocaleString('en-US') + ' errors since start' + share;
    document.getElementById('latency-window').textContent = ' · successful requests, ' + fmt(series.latencyWindowSeconds, 0) + ' s windows';
  }

  function stat(label, value, cls) {
    const s = el('div', 'stat');
    s.appendChild(el('div', 'label', label));
    s.appendChild(el('div', 'big' + (cls ? ' ' + cls : ''), value));
    return s;
  }

  function renderPools(pools) {
    const root = document.getElementById('pools');
    clear(root);
    for (const p of pools) {
      const card = el('div', 'card pool');
      card.setAttribute('data-pool', p.name);
      card.appendChild(el('h3', null, 'Pool ' + p.name));
      const stats = el('div', 'stats');
      stats.appendChild(stat('Ready endpoints', p.readyEndpoints + ' / ' + p.totalEndpoints, p.readyEndpoints === 0 ? 'bad' : ''));
      stats.appendChild(stat('Average KV cache', pct(p.averageKVCache)));
      stats.appendChild(stat('Average queue', fmt(p.averageQueue, 1)));
      stats.appendChild(stat('In flight', String(p.inFlight)));
      card.appendChild(stats);
      root.appendChild(card);
    }
  }

  function meter(frac) {
    const m = el('span', 'meter');
    const bar = el('span', frac >= 0.9 ? 'high' : '');
    bar.style.width = Math.min(100, Math.max(0, 100 * frac)).toFixed(1) + '%';
    m.appendChild(bar);
    return m;
  }

  function renderEndpoints(pools, staleness) {
    const body = document.querySelector('#endpoints tbody');
    clear(body);
    const many = pools.length > 1;
    let rows = 0;
    for (const p of pools) {
      for (const e of p.endpoints) {
        const tr = el('tr');
        tr.setAttribute('data-endpoint', e.name);
        const name = el('td');
        name.appendChild(el('div', null, (many ? p.name + ' / ' : '') + e.name));
        name.appendChild(el('div', 'sub', e.address + ' · ' + e.engine));
        tr.appendChild(name);

        const status = el('td');
        let badge;
        if (e.ready) badge = el('span', 'badge ready', 'ready');
        else if (e.scraped) badge = el('span', 'badge stale', 'stale');
        else badge = el('span', 'badge down', 'no metrics');
        if (!e.ready) badge.title = 'metrics older than ' + fmt(staleness, 1) + ' s or never scraped; ' + e.scrapeFailures + ' failed scrapes in a row';
        status.appendChild(badge);
        if (e.ejected) {
          const ej = el('span', 'badge down', 'ejected');
          ej.title = e.ejectedForSeconds > 0
            ? 'outlier detection: ejected for ' + fmt(e.ejectedForSeconds, 0) + ' s more'
            : 'outlier detection: half-open, back after one successful request';
          status.appendChild(document.createTextNode(' '));
          status.appendChild(ej);
        }
        tr.appendChild(status);

        tr.appendChild(el('td', 'num', e.scraped ? e.queue : '–'));
        tr.appendChild(el('td', 'num', e.scraped ? e.running : '–'));
        const kv = el('td');
        if (e.scraped) { kv.appendChild(meter(e.kvCache)); kv.appendChild(document.createTextNode(pct(e.kvCache))); }
        else kv.textContent = '–';
        tr.appendChild(kv);

        const lora = el('td');
        for (const a of e.adapters) lora.appendChild(el('span', 'chip', a));
        for (const a of e.waitingAdapters) {
          const c = el('span', 'chip waiting', a + ' (waiting)');
          c.title = 'queued requests wait for this adapter to load';
          lora.appendChild(c);
        }
        if (!lora.firstChild) lora.appendChild(el('span', 'sub', 'none running'));
        if (e.maxAdapters > 0) lora.appendChild(el('span', 'sub', ' · ' + e.adapters.length + ' of ' + e.maxAdapters + ' slots'));
        tr.appendChild(lora);

        tr.appendChild(el('td', 'num', e.inFlight));
        tr.appendChild(el('td', 'num', e.scraped ? fmtSeconds(e.scrapeAgeSeconds) : 'never'));
        body.appendChild(tr);
        rows++;
      }
    }
    if (!rows) {
      const tr = el('tr', 'empty-row');
      const td = el('td', null, 'No endpoints configured.');
      td.colSpan = 8;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function clock(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString('en-GB', { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  }

  function renderDecisions(decisions) {
    const body = document.querySelector('#decisions tbody');
    clear(body);
    if (!decisions.length) {
      const tr = el('tr', 'empty-row');
      const td = el('td', null, 'No requests routed yet. Send one to the gateway\'s OpenAI port.');
      td.colSpan = 6;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    for (const d of decisions.slice(0, MAX_DECISIONS)) {
      const tr = el('tr', 'decision');
      tr.appendChild(el('td', 'sub', clock(d.at)));
      const model = el('td');
      model.appendChild(el('div', null, d.model === d.targetModel ? d.model : d.model + ' → ' + d.targetModel));
      model.appendChild(el('div', 'sub', 'pool ' + d.pool + ' · priority ' + d.priority));
      tr.appendChild(model);
      const ep = el('td', null, d.endpoint);
      if (d.retry) ep.appendChild(el('span', 'badge retry', 'retry'));
      if (d.traceURL && /^https?:\/\//.test(d.traceURL)) {
        const a = el('a', 'trace', 'trace');
        a.href = d.traceURL;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        a.title = 'trace ' + d.traceID;
        ep.appendChild(a);
      } else if (d.traceID) {
        ep.appendChild(el('div', 'sub', 'trace ' + d.traceID));
      }
      ep.appendChild(el('div', 'sub', 'best of ' + d.candidates));
      tr.appendChild(ep);
      tr.appendChild(el('td', 'num', fmt(d.total, 2)));

      const why = el('td');
      let maxTotal = 0;
      for (const s of d.scorers) maxTotal += s.weight;
      const bar = el('div', 'contrib');
      bar.title = 'filled share = total score out of the maximum ' + fmt(maxTotal, 2);
      const list = el('div', 'scorers');
      d.scorers.forEach((s, i) => {
        if (s.weight === 0) return;
        const seg = el('span', 'c' + i);
        seg.style.width = (maxTotal > 0 ? 100 * s.contribution / maxTotal : 0).toFixed(1) + '%';
        seg.title = s.name + ': weight ' + fmt(s.weight, 2) + ' × score ' + fmt(s.score, 2) + ' = ' + fmt(s.contribution, 2);
        bar.appendChild(seg);
        const item = el('span', 'scorer');
        item.setAttribute('data-scorer', s.name);
        item.title = seg.title;
        item.appendChild(el('span', 'dot c' + i));
        item.appendChild(document.createTextNode(s.name + ' '));
        item.appendChild(el('b', null, fmt(s.contribution, 2)));
        list.appendChild(item);
      });
      why.appendChild(bar);
      why.appendChild(list);
      tr.appendChild(why);
      tr.appendChild(el('td', 'num', d.prefixTotalBlocks > 0 ? d.prefixMatchBlocks + '/' + d.prefixTotalBlocks + ' blocks' : '–'));
      body.appendChild(tr);
    }
  }

  function setStatus(text, cls) {
    const s = document.getElementById('status');
    s.textContent = text;
    s.className = 'pill ' + cls;
  }

  function render(state) {
    document.getElementById('logout-form').classList.toggle('hidden', !state.authRequired);
    document.getElementById('user').textContent = state.user ? 'signed in as ' + state.user : '';
    renderPools(state.pools);
    renderCharts(state.series);
    renderEndpoints(state.pools, state.stalenessSeconds);
    renderDecisions(state.decisions);
    setStatus('live · ' + new Date(state.time).toLocaleTimeString('en-GB', { hour12: false }), 'live');
    document.body.setAttribute('data-updated', state.time);
  }

  // Once the user logs out, stop polling: a poll answered 401 would reload
  // the page and abort the logout navigation.
  let leaving = false;
  document.getElementById('logout-form').addEventListener('submit', function () { leaving = true; });

  async function poll() {
    if (leaving) return;
    try {
      const resp = await fetch(STATE_URL, { credentials: 'same-origin', cache: 'no-store' });
      if (leaving) return;
      if (resp.status === 401) { window.location.reload(); return; }
      if (!resp.ok) throw new Error('HTTP ' + resp.status);
      render(await resp.json());
    } catch (err) {
      setStatus('disconnected · retrying', 'stale');
    }
    setTimeout(poll, POLL_MS);
  }

  poll();
})();
