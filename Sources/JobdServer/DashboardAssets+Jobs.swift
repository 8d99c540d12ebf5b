extension DashboardAssets {
    /// The job list (filters, paging, live) and a job's detail.
    static let jobsJS = #"""
        'use strict';
        (function () {
          const JD = window.JD;
          const el = JD.el;
          const PAGE = 50;
          const STATES = ['', 'waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
          const KINDS = ['', 'fetch', 'delay'];

          const select = (name, values, current) => el('select', { name },
            values.map((value) => el('option', { value, selected: value === current ? 'selected' : null }, value || 'any')));

          JD.pages.jobs = async function (view, context) {
            const params = context.params;
            const state = STATES.includes(params.get('state')) ? params.get('state') : '';
            const kind = KINDS.includes(params.get('kind')) ? params.get('kind') : '';
            const tag = params.get('tag') || '';
            const after = /^\d+$/.test(params.get('after') || '') ? params.get('after') : '';
            view.append(el('h1', null, 'Jobs'));

            const form = el('form', { class: 'filters' },
              el('label', null, 'state', select('state', STATES, state)),
              el('label', null, 'kind', select('kind', KINDS, kind)),
              el('label', null, 'tag', el('input', { name: 'tag', value: tag, size: 16, maxlength: 64 })),
              el('button', { type: 'submit' }, 'Filter'));
            form.addEventListener('submit', (event) => {
              event.preventDefault();
              const query = new URLSearchParams();
              for (const name of ['state', 'kind', 'tag']) {
                const value = form.elements[name].value.trim();
                if (value) query.set(name, value);
              }
              location.hash = '#/jobs' + (query.toString() ? '?' + query : '');
            });
            view.append(form);

            const query = new URLSearchParams();
            if (state) query.set('state', state);
            if (kind) query.set('kind', kind);
            if (tag) query.set('tag', tag);
            query.set('limit', String(PAGE));
            if (after) query.set('after', after);
            const holder = el('div', { id: 'job-list' });
            view.append(holder);
            let shown = new Set();

            const load = async function () {
              const list = await JD.api('/v1/jobs?' + query);
              if (!context.isCurrent()) return;
              const rows = (list.jobs || []).map((job) => JD.row([
                JD.jobLink(job.id), job.kind, JD.stateBadge(job.state),
                el('span', null, JD.target(job.spec)), (job.spec.tags || []).join(', '),
                JD.num(job.attempt_count), JD.time(job.created_at),
              ], { 'data-job': Number(job.id), class: shown.size && !shown.has(job.id) ? 'fresh' : null }));
              shown = new Set((list.jobs || []).map((job) => job.id));
              const pager = el('div', { class: 'pager' });
              const base = new URLSearchParams(query);
              base.delete('limit');
              base.delete('after');
              if (after) pager.append(JD.link('/jobs' + (base.toString() ? '?' + base : ''), '← newest'));
              if (list.next_after) {
                base.set('after', String(Number(list.next_after)));
                pager.append(JD.link('/jobs?' + base, 'older →'));
              }
              holder.replaceChildren(
                JD.table(['id', 'kind', 'state', 'target', 'tags', 'attempts#', 'created'], rows, 'No jobs match.'), pager);
            };
            await load();

            // Live on the first page only: an older page would shift under the reader.
            if (after) return null;
            const refresh = JD.throttle(() => load().catch((error) => console.warn('jobs refresh', error.message)), 150);
            const unsubscribe = JD.onEvent(() => refresh());
            return () => { unsubscribe(); refresh.cancel(); };
          };

          JD.pages.job = async function (view, context) {
            const id = Number(context.match[1]);
            const holder = el('div', { id: 'job-detail' });
            view.append(holder);
            const load = async function () {
              const job = await JD.api('/v1/jobs/' + id);
              if (!context.isCurrent()) return;
              holder.replaceChildren(...render(job));
            };
            await load();
            const refresh = JD.throttle(() => load().catch((error) => console.warn('job refresh', error.message)), 250);
            const unsubscribe = JD.onEvent((event) => { if (Number(event.job_id) === id) refresh(); });
            return () => { unsubscribe(); refresh.cancel(); };
          };

          function render(job) {
            const spec = job.spec || {};
            const parents = (spec.after || []).map((parent) =>
              /^\d+$/.test(String(parent)) ? JD.jobLink(parent) : String(parent));
            const children = (job.children || []).map((child) => JD.jobLink(child));
            const parts = [
              el('h1', null, 'Job #' + Number(job.id) + ' ', JD.stateBadge(job.state)),
              JD.fields([
                ['kind', job.kind], ['target', JD.target(spec)], ['state', job.state],
                ['attempts', job.attempt_count + ' of ' + job.max_attempts], ['priority', String(job.priority)],
                ['created', JD.time(job.created_at)], ['run at', JD.time(job.run_at)],
                ['finished', job.finished_at ? JD.time(job.finished_at) : null],
                ['submitter uid', job.submitter_uid === undefined ? null : String(job.submitter_uid)],
                ['batch', job.batch_id ? JD.batchLink(job.batch_id) : null],
                ['key', spec.key], ['tags', (spec.tags || []).join(', ')],
                ['parents', parents.length ? joined(parents) : null],
                ['children', children.length ? joined(children) : null],
                ['rate limit', job.rate_limit ? job.rate_limit.host + ' until ' + JD.time(job.rate_limit.starts_at) : null],
              ]),
            ];
            if (job.error) {
              parts.push(el('h2', null, 'Error'), el('p', { class: 'error', id: 'job-error' },
                job.error.message, ' [', job.error.code, ']'));
            }
            if (job.result) parts.push(el('h2', null, 'Result'), ...result(job.result));
            const attempts = (job.attempts || []).map((a) => JD.row([
              JD.num(a.number), JD.time(a.started_at), JD.time(a.finished_at), a.outcome,
              a.error ? a.error.code : '', a.error ? a.error.message : '', a.node || '',
            ]));
            parts.push(el('h2', null, 'Attempts'),
              JD.table(['attempt#', 'started', 'finished', 'outcome', 'error', 'message', 'node'], attempts, 'Not run yet.'));
            parts.push(el('h2', null, 'Spec'), el('pre', { id: 'job-spec' }, JSON.stringify(spec, null, 2)));
            return parts;
          }

          function joined(nodes) {
            const span = el('span');
            nodes.forEach((node, index) => { if (index) span.append(', '); span.append(node); });
            return span;
          }

          // A result preview: text only, the first 64 KiB of a body.
          function result(res) {
            if (res.kind === 'delay') {
              return [el('pre', { id: 'job-result' }, JSON.stringify(res.value === undefined ? null : res.value, null, 2))];
            }
            const headers = Object.entries(res.headers || {}).map(([name, value]) => JD.row([name, value]));
            let body = res.body || '';
            const clipped = body.length > 65536;
            if (clipped) body = body.slice(0, 65536);
            return [
              JD.fields([
                ['status', String(res.status)], ['size', JD.number(res.size) + ' bytes'],
                ['elapsed', JD.number(res.elapsed_ms) + ' ms'], ['final URL', res.final_url],
                ['body encoding', res.body_encoding],
              ]),
              el('h2', null, 'Headers'), JD.table(['name', 'value'], headers, 'None recorded.'),
              el('h2', null, 'Body' + (clipped ? ' (first 64 KiB)' : '')), el('pre', { id: 'job-result' }, body),
            ];
          }
        })();

        """#
}
