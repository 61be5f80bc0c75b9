// The monitoring dashboard. Plain JavaScript, no libraries and no build step: it is compiled into
// the service's binary and must work offline under a `self`-only Content-Security-Policy, so it
// never injects HTML (all text goes through textContent) and draws its charts as SVG by hand.
//
// It talks only to the public API through the gateway, with the operator's bearer token from the
// login form (kept in sessionStorage, so closing the tab forgets it).
'use strict';

(function () {
  const API = '/api/analytics-monitoring';
  const LOGIN = '/api/foundation/auth/login';
  const REFRESH = '/api/foundation/auth/refresh';
  const HISTORY = 60; // points per chart
  const PAGE_SIZE = 50;
  const params = new URLSearchParams(window.location.search);
  // How often health, metrics and alerts are fetched; `?refresh=ms` overrides (1–60 s).
  const INTERVAL = Math.min(60000, Math.max(1000, Number(params.get('refresh')) || 5000));

  const $ = (id) => document.getElementById(id);
  const series = {};
  let timer = null;
  let logPage = 1;

  const session = {
    get token() { return sessionStorage.getItem('crm.token'); },
    get refresh() { return sessionStorage.getItem('crm.refresh'); },
    set(data) {
      const token = data.token || data.access_token;
      if (token) sessionStorage.setItem('crm.token', token);
      if (data.refresh_token) sessionStorage.setItem('crm.refresh', data.refresh_token);
      if (data.user) sessionStorage.setItem('crm.user', data.user.username || data.user.email || '');
    },
    clear() { sessionStorage.removeItem('crm.token'); sessionStorage.removeItem('crm.refresh'); sessionStorage.removeItem('crm.user'); },
  };

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function send(method, path, body, token) {
    const headers = { Accept: 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let envelope = null;
    try { envelope = await response.json(); } catch (_) { /* not JSON */ }
    if (!response.ok) throw new HttpError(response.status, (envelope && envelope.message) || response.statusText);
    return envelope ? envelope.data : null;
  }

  // An API call with the operator's token; one refresh attempt when it has expired.
  async function api(method, path, body) {
    try {
      return await send(method, API + path, body, session.token);
    } catch (e) {
      if (e.status === 401 && session.refresh) {
        try {
          session.set(await send('POST', REFRESH, { refresh_token: session.refresh }));
          return await send(method, API + path, body, session.token);
        } catch (_) { /* fall through to the login form */ }
      }
      if (e.status === 401) { logout('Your session has ended; please log in again.'); }
      throw e;
    }
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function badge(status) {
    const s = String(status || 'unknown').toLowerCase();
    const span = el('span', s, 'badge ' + s.replace(/[^a-z_-]/g, ''));
    return span;
  }

  function fmtDuration(seconds) {
    if (typeof seconds !== 'number') return '—';
    if (seconds < 120) return Math.round(seconds) + ' s';
    if (seconds < 7200) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return Math.round(seconds / 3600) + ' h';
    return Math.round(seconds / 86400) + ' d';
  }

  function num(v, digits) {
    return typeof v === 'number' && isFinite(v) ? v.toFixed(digits) : null;
  }

  // ---- services -------------------------------------------------------------------------------

  async function loadServices() {
    const data = await api('GET', '/monitoring/health/services');
    const overall = String(data.overall_status || 'unknown');
    const o = $('overall-status');
    o.textContent = overall;
    o.className = 'badge ' + overall.toLowerCase().replace(/[^a-z_-]/g, '');
    o.dataset.status = overall;
    const tbody = $('services').tBodies[0];
    const rows = (data.services || []).map((s) => {
      const name = s.name || s.service_name || '?';
      const tr = document.createElement('tr');
      tr.dataset.service = name;
      tr.dataset.status = s.status || 'unknown';
      tr.appendChild(el('td', name));
      const st = el('td');
      st.className = 'status';
      st.appendChild(badge(s.status));
      if (s.error_message || s.error) st.title = s.error_message || s.error;
      tr.appendChild(st);
      const latency = num(s.response_time_ms ?? s.latency_ms, 1);
      tr.appendChild(el('td', latency === null ? '—' : latency + ' ms', 'latency'));
      tr.appendChild(el('td', s.version || '—'));
      tr.appendChild(el('td', fmtDuration(s.uptime ?? s.uptime_seconds)));
      return tr;
    });
    tbody.replaceChildren(...rows);
  }

  // ---- metrics and charts ---------------------------------------------------------------------

  function push(key, value) {
    if (typeof value !== 'number' || !isFinite(value)) return;
    const points = series[key] || (series[key] = []);
    points.push(value);
    if (points.length > HISTORY) points.shift();
  }

  // A sparkline: the series scaled into a 200×60 box (percentages against 0–100, others against
  // their own maximum), as an area and a line.
  function draw(figureId, key, label, fixedMax) {
    const figure = $(figureId);
    const points = series[key] || [];
    figure.querySelector('.value').textContent = label;
    const NS = 'http://www.w3.org/2000/svg';
    let svg = figure.querySelector('svg');
    if (!svg) {
      svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('viewBox', '0 0 200 60');
      svg.setAttribute('preserveAspectRatio', 'none');
      svg.setAttribute('role', 'img');
      svg.appendChild(document.createElementNS(NS, 'polygon')).setAttribute('class', 'area');
      svg.appendChild(document.createElementNS(NS, 'polyline'));
      figure.appendChild(svg);
    }
    const max = fixedMax || Math.max(1, ...points) * 1.1;
    const step = 200 / Math.max(1, HISTORY - 1);
    const offset = 200 - step * (points.length - 1);
    const coords = points.map((v, i) => {
      const x = (offset + i * step).toFixed(1);
      const y = (58 - Math.min(1, Math.max(0, v / max)) * 56).toFixed(1);
      return x + ',' + y;
    });
    svg.querySelector('polyline').setAttribute('points', coords.join(' '));
    const area = coords.length ? [offset.toFixed(1) + ',60', ...coords, '200,60'] : [];
    svg.querySelector('polygon').setAttribute('points', area.join(' '));
    svg.dataset.points = String(points.length);
  }

  async function loadMetrics() {
    const [sys, db, dbHealth] = await Promise.allSettled([
      api('GET', '/monitoring/metrics/system'),
      api('GET', '/monitoring/metrics/database'),
      api('GET', '/monitoring/health/database'),
    ]);
    if (sys.status === 'fulfilled' && sys.value) {
      const m = sys.value;
      push('cpu', m.cpu_percent ?? m.cpu_usage_percent);
      push('memory', m.memory_percent ?? m.memory_usage_percent);
      push('disk', m.disk_percent ?? m.disk_usage_percent);
    }
    const pct = (k) => { const p = series[k] || []; return p.length ? p[p.length - 1].toFixed(1) + ' %' : '—'; };
    draw('chart-cpu', 'cpu', pct('cpu'), 100);
    draw('chart-memory', 'memory', pct('memory'), 100);
    draw('chart-disk', 'disk', pct('disk'), 100);
    if (db.status === 'fulfilled' && db.value) {
      push('db-connections', db.value.connection_count ?? db.value.active_connections);
      push('db-slow', db.value.slow_query_count ?? db.value.slow_queries_count);
    }
    if (dbHealth.status === 'fulfilled' && dbHealth.value) {
      push('db-latency', dbHealth.value.response_time_ms);
      $('db-status').textContent = 'Database: ' + (dbHealth.value.status || 'unknown') +
        (dbHealth.value.version ? ' (' + dbHealth.value.version + ')' : '');
    }
    const last = (k, unit) => { const p = series[k] || []; return p.length ? p[p.length - 1] + unit : '—'; };
    draw('chart-db-latency', 'db-latency', last('db-latency', ' ms'));
    draw('chart-db-connections', 'db-connections', last('db-connections', ''));
    draw('chart-db-slow', 'db-slow', last('db-slow', ''));
  }

  // ---- alerts ---------------------------------------------------------------------------------

  async function loadAlerts() {
    const data = await api('GET', '/monitoring/alerts/active');
    const alerts = data.alerts || [];
    $('alerts-total').textContent = String(data.total ?? alerts.length);
    $('alerts-empty').hidden = alerts.length > 0;
    const items = alerts.map((a) => {
      const li = document.createElement('li');
      li.dataset.alertId = a.id;
      li.dataset.acknowledged = String(Boolean(a.acknowledged));
      li.appendChild(badge(a.severity));
      li.appendChild(el('span', a.type, 'type'));
      li.appendChild(el('span', a.message, 'message'));
      li.appendChild(el('time', a.created_at, 'muted'));
      if (a.acknowledged) {
        li.appendChild(el('span', 'acknowledged', 'muted acknowledged'));
      } else {
        const button = el('button', 'Acknowledge', 'ack');
        button.type = 'button';
        button.dataset.alertId = a.id;
        button.addEventListener('click', () => acknowledge(a.id, button));
        li.appendChild(button);
      }
      return li;
    });
    $('alerts').replaceChildren(...items);
  }

  async function acknowledge(id, button) {
    button.disabled = true;
    try {
      await api('POST', '/monitoring/alerts/' + encodeURIComponent(id) + '/acknowledge');
      await loadAlerts();
    } catch (e) {
      button.disabled = false;
      status('Acknowledging failed: ' + e.message);
    }
  }

  // ---- logs -----------------------------------------------------------------------------------

  async function searchLogs(page) {
    const q = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
    const keyword = $('log-keyword').value.trim();
    if (keyword) q.set('keyword', keyword);
    if ($('log-level').value) q.set('levels', $('log-level').value);
    if ($('log-service').value) q.set('services', $('log-service').value);
    $('log-summary').textContent = 'Searching…';
    try {
      const data = await api('GET', '/logs/query?' + q.toString());
      logPage = data.page || page;
      const rows = (data.logs || []).map((l) => {
        const tr = document.createElement('tr');
        tr.appendChild(el('td', l.timestamp, 'time'));
        tr.appendChild(el('td', l.level, 'level-' + String(l.level).replace(/[^A-Z]/g, '')));
        tr.appendChild(el('td', l.service));
        tr.appendChild(el('td', l.message, 'message'));
        return tr;
      });
      $('logs').tBodies[0].replaceChildren(...rows);
      const pages = data.total_pages || 0;
      $('log-summary').textContent = data.total + ' records' + (pages > 1 ? ', page ' + logPage + ' of ' + pages : '');
      $('log-summary').dataset.total = String(data.total);
      $('log-prev').disabled = logPage <= 1;
      $('log-next').disabled = logPage >= pages;
    } catch (e) {
      $('log-summary').textContent = 'Search failed: ' + e.message;
    }
  }

  // ---- the loop, login and logout -------------------------------------------------------------

  function status(text) { $('status-line').textContent = text; }

  async function tick() {
    const results = await Promise.allSettled([loadServices(), loadMetrics(), loadAlerts()]);
    const failed = results.filter((r) => r.status === 'rejected');
    const when = new Date().toLocaleTimeString();
    status(failed.length ? 'Updated ' + when + ' — ' + failed[0].reason.message : 'Updated ' + when + ', every ' + INTERVAL / 1000 + ' s');
  }

  function start() {
    $('login-panel').hidden = true;
    $('app').hidden = false;
    $('logout').hidden = false;
    $('who').textContent = sessionStorage.getItem('crm.user') || '';
    clearInterval(timer);
    tick();
    timer = setInterval(tick, INTERVAL);
  }

  function logout(message) {
    clearInterval(timer);
    timer = null;
    session.clear();
    $('app').hidden = true;
    $('logout').hidden = true;
    $('login-panel').hidden = false;
    $('who').textContent = '';
    $('login-error').textContent = message || '';
  }

  async function login(event) {
    event.preventDefault();
    const id = $('login-email').value.trim();
    const password = $('login-password').value;
    const body = id.includes('@') ? { email: id, password } : { username: id, password };
    $('login-submit').disabled = true;
    $('login-error').textContent = '';
    try {
      session.set(await send('POST', LOGIN, body));
      $('login-password').value = '';
      start();
    } catch (e) {
      $('login-error').textContent = e.status === 429 ? 'Too many attempts; wait a minute.' : 'Login failed: ' + e.message;
    } finally {
      $('login-submit').disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => logout(''));
    $('log-form').addEventListener('submit', (e) => { e.preventDefault(); searchLogs(1); });
    $('log-prev').addEventListener('click', () => searchLogs(Math.max(1, logPage - 1)));
    $('log-next').addEventListener('click', () => searchLogs(logPage + 1));
    if (session.token) start();
  });
})();
