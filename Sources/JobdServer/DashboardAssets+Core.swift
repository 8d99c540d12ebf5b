extension DashboardAssets {
    /// Shared helpers: element building (text only), the API, formats, the event stream.
    static let coreJS = #"""
        'use strict';
        (function () {
          const JD = (window.JD = { pages: {}, timings: {} });

          // Builds an element. Children and the `text` property always become text nodes:
          // nothing that came from jobd is ever parsed as markup.
          JD.el = function (tag, props, ...children) {
            const node = document.createElement(tag);
            for (const [key, value] of Object.entries(props || {})) {
              if (value === undefined || value === null || value === false) continue;
              if (key === 'class') node.className = value;
              else if (key === 'text') node.textContent = String(value);
              else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
              else node.setAttribute(key, String(value));
            }
            JD.append(node, children);
            return node;
          };

          JD.append = function (node, children) {
            for (const child of [children].flat(Infinity)) {
              if (child === undefined || child === null || child === false) continue;
              node.append(child instanceof Node ? child : String(child));
            }
          };

          // A link inside the dashboard: only hash routes built from numbers and known words.
          JD.link = function (route, text) {
            return JD.el('a', { href: '#' + route }, text);
          };
          JD.jobLink = (id) => JD.link('/jobs/' + Number(id), '#' + Number(id));
          JD.batchLink = (id) => JD.link('/batches/' + Number(id), 'batch ' + Number(id));

          JD.api = async function (path) {
            const response = await fetch(path, {
              headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store',
            });
            let body = null;
            try { body = await response.json(); } catch (error) { body = null; }
            if (!response.ok) {
              const detail = body && body.error ? body.error.message + ' [' + body.error.code + ']' : 'HTTP ' + response.status;
              const error = new Error(detail);
              error.status = response.status;
              throw error;
            }
            return body;
          };

          JD.number = (value) => (value === undefined || value === null ? '–' : Number(value).toLocaleString('en-US'));
          JD.percent = (part, whole) => (whole > 0 ? (100 * part / whole).toFixed(1) + ' %' : '–');
          JD.time = function (value) {
            if (!value) return '–';
            const date = new Date(value);
            if (isNaN(date.getTime())) return String(value);
            return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
          };
          JD.duration = function (seconds) {
            if (seconds === undefined || seconds === null || isNaN(seconds)) return '–';
            if (seconds < 1) return Math.round(seconds * 1000) + ' ms';
            if (seconds < 120) return seconds.toFixed(1) + ' s';
            if (seconds < 7200) return Math.round(seconds / 60) + ' min';
            if (seconds < 172800) return (seconds / 3600).toFixed(1) + ' h';
            return (seconds / 86400).toFixed(1) + ' d';
          };
          JD.since = (value) => (value ? (Date.now() - new Date(value).getTime()) / 1000 : null);
          JD.stateBadge = (state) => JD.el('span', { class: 'state ' + String(state).replace(/[^a-z_]/g, '') }, state);
          JD.target = function (spec) {
            if (!spec) return '';
            if (spec.kind === 'fetch') return spec.url;
            if (spec.kind === 'delay') return 'delay ' + spec.seconds + ' s';
            return spec.kind;
          };

          JD.table = function (headers, rows, empty) {
            const head = JD.el('tr', null, headers.map((header) =>
              JD.el('th', { class: header.endsWith('#') ? 'num' : null }, header.replace(/#$/, ''))));
            const body = JD.el('tbody');
            if (rows.length === 0) {
              body.append(JD.el('tr', null, JD.el('td', { colspan: headers.length, class: 'muted' }, empty || 'None.')));
            }
            for (const row of rows) body.append(row);
            return JD.el('table', null, JD.el('thead', null, head), body);
          };
          JD.row = (cells, props) => JD.el('tr', props, cells.map((cell) =>
            cell && cell.num !== undefined ? JD.el('td', { class: 'num' }, cell.num) : JD.el('td', null, cell)));
          JD.num = (value) => ({ num: JD.number(value) });

          JD.fields = function (pairs) {
            const list = JD.el('dl', { class: 'fields' });
            for (const [name, value] of pairs) {
              if (value === undefined || value === null || value === '') continue;
              list.append(JD.el('dt', null, name), JD.el('dd', null, value));
            }
            return list;
          };

          JD.errorBox = (error) => JD.el('p', { class: 'error' }, 'Cannot load this page: ', error.message || String(error));

          // Runs `fn` at most once per `ms`, soon after the first call of a burst.
          JD.throttle = function (fn, ms) {
            let timer = null;
            const wrapped = () => {
              if (timer !== null) return;
              timer = setTimeout(() => { timer = null; fn(); }, ms);
            };
            wrapped.cancel = () => { if (timer !== null) clearTimeout(timer); timer = null; };
            return wrapped;
          };

          // The event stream, one per page load; pages subscribe while they are shown.
          const listeners = new Set();
          JD.onEvent = function (fn) {
            listeners.add(fn);
            return () => listeners.delete(fn);
          };
          JD.connect = function () {
            const status = document.getElementById('live');
            const source = new EventSource('/v1/events');
            source.onopen = () => { status.textContent = 'live'; status.className = 'live on'; };
            source.onerror = () => { status.textContent = 'reconnecting…'; status.className = 'live off'; };
            const types = ['submitted', 'started', 'attempt_failed', 'retry_scheduled', 'succeeded', 'failed',
              'cancelled', 'interrupted', 'requeued', 'waiting', 'released', 'dependency_failed', 'batch_completed', 'lagged'];
            for (const type of types) {
              source.addEventListener(type, (message) => {
                let event;
                try { event = JSON.parse(message.data); } catch (error) { return; }
                for (const fn of listeners) {
                  try { fn(event); } catch (error) { console.warn('dashboard listener', error); }
                }
              });
            }
            JD.source = source;
          };
        })();

        """#

    /// SVG charts, drawn from numbers only.
    static let chartsJS = #"""
        'use strict';
        (function () {
          const JD = window.JD;
          const NS = 'http://www.w3.org/2000/svg';
          const svg = function (tag, attributes, text) {
            const node = document.createElementNS(NS, tag);
            for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
            if (text !== undefined) node.textContent = String(text);
            return node;
          };

          // A chart of `points` ({t: milliseconds, v: number}) over the last `span` ms.
          // kind 'bars' draws one bar per sample (counts per minute), 'line' a level (depth).
          JD.chart = function (title, points, options) {
            const { kind = 'line', span = 3600e3, bad = false } = options || {};
            const width = 560, height = 170, left = 46, right = 10, top = 10, bottom = 22;
            const plotW = width - left - right, plotH = height - top - bottom;
            const root = svg('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': title });
            const now = Date.now(), start = now - span;
            const shown = points.filter((p) => p.t >= start && p.t <= now + 60e3 && isFinite(p.v));
            let max = Math.max(1, ...shown.map((p) => p.v));
            const magnitude = Math.pow(10, Math.floor(Math.log10(max)));
            max = Math.ceil(max / magnitude) * magnitude;
            const x = (t) => left + plotW * (t - start) / span;
            const y = (v) => top + plotH - plotH * v / max;
            for (const value of [0, max / 2, max]) {
              root.append(svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(value), y2: y(value) }));
              root.append(svg('text', { class: 'tick', x: left - 6, y: y(value) + 3, 'text-anchor': 'end' },
                Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1)));
            }
            const minutes = Math.round(span / 60e3);
            for (const [t, label] of [[start, '−' + minutes + ' min'], [start + span / 2, '−' + minutes / 2 + ' min'], [now, 'now']]) {
              root.append(svg('text', { class: 'tick', x: x(t), y: height - 6,
                'text-anchor': t === start ? 'start' : t === now ? 'end' : 'middle' }, label));
            }
            if (shown.length === 0) {
              root.append(svg('text', { class: 'empty', x: left + plotW / 2, y: top + plotH / 2, 'text-anchor': 'middle' },
                'no samples yet'));
            } else if (kind === 'bars') {
              const barW = Math.max(2, plotW / (span / 60e3) - 2);
              for (const p of shown) {
                root.append(svg('rect', { class: bad ? 'bar bad' : 'bar', x: Math.max(left, x(p.t) - barW),
                  y: y(p.v), width: barW, height: Math.max(0, top + plotH - y(p.v)) }, undefined));
              }
            } else {
              const coords = shown.map((p) => x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1));
              const first = shown[0], last = shown[shown.length - 1];
              root.append(svg('path', { class: 'area', d: 'M' + x(first.t).toFixed(1) + ',' + y(0) + ' L' +
                coords.join(' L') + ' L' + x(last.t).toFixed(1) + ',' + y(0) + ' Z' }));
              root.append(svg('polyline', { class: 'line', points: coords.join(' ') }));
            }
            return JD.el('div', { class: 'chart' }, JD.el('h3', null, title), root);
          };
        })();

        """#
}
