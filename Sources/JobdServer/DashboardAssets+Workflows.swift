extension DashboardAssets {
    /// Batches, a batch, schedules.
    static let workflowsJS = #"""
        'use strict';
        (function () {
          const JD = window.JD;
          const el = JD.el;

          const counts = (c) => ['succeeded', 'failed', 'cancelled', 'running', 'queued', 'waiting']
            .filter((state) => c && c[state]).map((state) => c[state] + ' ' + state).join(', ') || '–';

          JD.pages.batches = async function (view, context) {
            const after = /^\d+$/.test(context.params.get('after') || '') ? context.params.get('after') : '';
            view.append(el('h1', null, 'Batches'));
            const holder = el('div', { id: 'batch-list' });
            view.append(holder);
            const load = async function () {
              const list = await JD.api('/v1/batches?limit=50' + (after ? '&after=' + after : ''));
              if (!context.isCurrent()) return;
              const rows = (list.batches || []).map((b) => JD.row([
                JD.batchLink(b.id), b.label || '', JD.stateBadge(b.state), JD.num(b.size), counts(b.counts),
                JD.time(b.created_at), JD.time(b.finished_at),
              ]));
              const pager = el('div', { class: 'pager' });
              if (after) pager.append(JD.link('/batches', '← newest'));
              if (list.next_after) pager.append(JD.link('/batches?after=' + Number(list.next_after), 'older →'));
              holder.replaceChildren(
                JD.table(['id', 'label', 'state', 'jobs#', 'counts', 'created', 'finished'], rows, 'No batches.'), pager);
            };
            await load();
            if (after) return null;
            const refresh = JD.throttle(() => load().catch((error) => console.warn('batches refresh', error.message)), 1000);
            const unsubscribe = JD.onEvent((event) => { if (event.batch_id) refresh(); });
            return () => { unsubscribe(); refresh.cancel(); };
          };

          JD.pages.batch = async function (view, context) {
            const id = Number(context.match[1]);
            const holder = el('div', { id: 'batch-detail' });
            view.append(holder);
            const load = async function () {
              const b = await JD.api('/v1/batches/' + id);
              if (!context.isCurrent()) return;
              const jobs = el('span');
              (b.job_ids || []).slice(0, 500).forEach((job, index) => {
                if (index) jobs.append(' ');
                jobs.append(JD.jobLink(job));
              });
              if ((b.job_ids || []).length > 500) jobs.append(' … (' + b.job_ids.length + ' in all)');
              holder.replaceChildren(
                el('h1', null, 'Batch ' + Number(b.id) + ' ', JD.stateBadge(b.state)),
                JD.fields([
                  ['label', b.label], ['state', b.state], ['jobs', JD.number(b.size)], ['counts', counts(b.counts)],
                  ['created', JD.time(b.created_at)], ['finished', b.finished_at ? JD.time(b.finished_at) : null],
                  ['on complete', b.on_complete_id ? JD.jobLink(b.on_complete_id) : null],
                ]),
                el('h2', null, 'Jobs'), el('p', null, jobs));
            };
            await load();
            const refresh = JD.throttle(() => load().catch((error) => console.warn('batch refresh', error.message)), 500);
            const unsubscribe = JD.onEvent((event) => { if (Number(event.batch_id) === id) refresh(); });
            return () => { unsubscribe(); refresh.cancel(); };
          };

          JD.pages.schedules = async function (view, context) {
            view.append(el('h1', null, 'Schedules'));
            const list = await JD.api('/v1/schedules');
            const rows = (list.schedules || []).map((s) => JD.row([
              s.name, s.cron, s.timezone || 'UTC', s.missed || '', s.paused ? 'paused' : 'active', s.source || '',
              JD.time(s.next), JD.time(s.last_slot), s.last_job_id ? JD.jobLink(s.last_job_id) : '',
              JD.target(s.job),
            ]));
            view.append(JD.table(['name', 'cron', 'zone', 'missed', 'state', 'from', 'next', 'last slot', 'last job', 'job'],
              rows, 'No schedules.'));
            return null;
          };
        })();

        """#

    /// The hash router: `#/`, `#/jobs?state=&kind=&tag=&after=`, `#/jobs/ID`, `#/batches`,
    /// `#/batches/ID`, `#/schedules`.
    static let appJS = #"""
        'use strict';
        (function () {
          const JD = window.JD;
          const routes = [
            [/^#?\/?$/, 'overview', JD.pages.overview],
            [/^#\/jobs$/, 'jobs', JD.pages.jobs],
            [/^#\/jobs\/(\d+)$/, 'jobs', JD.pages.job],
            [/^#\/batches$/, 'batches', JD.pages.batches],
            [/^#\/batches\/(\d+)$/, 'batches', JD.pages.batch],
            [/^#\/schedules$/, 'schedules', JD.pages.schedules],
          ];
          let cleanup = null;
          let generation = 0;

          async function show() {
            const started = performance.now();
            const [path, search] = location.hash.split('?');
            if (cleanup) { cleanup(); cleanup = null; }
            const mine = ++generation;
            const view = JD.el('div', { class: 'view' });
            document.getElementById('main').replaceChildren(view);
            document.body.removeAttribute('data-loaded');
            const route = routes.find(([pattern]) => pattern.test(path));
            for (const link of document.querySelectorAll('nav a')) {
              link.classList.toggle('active', !!route && link.dataset.nav === route[1]);
            }
            if (!route) {
              view.append(JD.el('p', { class: 'error' }, 'No such page: ', path));
              return;
            }
            const context = { params: new URLSearchParams(search || ''), match: path.match(route[0]), isCurrent: () => mine === generation };
            try {
              const stop = await route[2](view, context);
              if (mine !== generation) { if (stop) stop(); return; }
              cleanup = stop || null;
            } catch (error) {
              if (mine !== generation) return;
              view.replaceChildren(JD.errorBox(error));
            }
            // For tests and measurements: when the page's data is on screen, and how long
            // it took (from navigation start for the first page, else from the route change).
            JD.timings[path || '#/'] = { route: performance.now() - started, sinceNavigation: performance.now() };
            document.body.dataset.page = route[1];
            document.body.dataset.loaded = String(generation);
          }

          window.addEventListener('hashchange', show);
          JD.connect();
          show();
        })();

        """#
}
