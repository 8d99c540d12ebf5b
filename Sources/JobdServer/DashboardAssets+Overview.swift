extension DashboardAssets {
    /// The overview: counts, the last hour's charts, failure rate, kinds, hosts, nodes.
    static let overviewJS = #"""
        'use strict';
        (function () {
          const JD = window.JD;
          const el = JD.el;
          const STATES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];
          const FINISHING = new Set(['succeeded', 'failed', 'attempt_failed', 'cancelled', 'interrupted']);

          JD.pages.overview = async function (view, context) {
            view.append(el('h1', null, 'Overview'));
            const body = el('div');
            view.append(body);
            // Finished attempts and failures seen live since the history was read: added to
            // its minute in progress (`current`), the last bar of the charts.
            let live = { finished: 0, failed: 0, submitted: 0 };
            let history = null;

            const load = async function () {
              const [stats, past, nodes, running] = await Promise.all([
                JD.api('/v1/stats'), history ? Promise.resolve(history) : JD.api('/v1/stats/history'),
                JD.api('/v1/nodes'), JD.api('/v1/jobs?state=running&limit=100'),
              ]);
              if (past !== history) live = { finished: 0, failed: 0, submitted: 0 };
              history = past;
              if (!context.isCurrent()) return;
              body.replaceChildren(...render(stats, history, nodes, running, live));
            };
            await load();

            const refresh = JD.throttle(() => load().catch((error) => console.warn('overview refresh', error.message)), 1000);
            const unsubscribe = JD.onEvent((event) => {
              if (FINISHING.has(event.type)) live.finished += 1;
              if (event.type === 'failed') live.failed += 1;
              if (event.type === 'submitted') live.submitted += 1;
              refresh();
            });
            // A new sample each minute: re-read the history (the page asks nothing else
            // while the queue is idle).
            const minute = setInterval(() => {
              history = null;
              refresh();
            }, 60e3);
            return () => { unsubscribe(); refresh.cancel(); clearInterval(minute); };
          };

          function render(stats, history, nodes, running, live) {
            const parts = [];
            if (stats.paused) parts.push(el('p', { class: 'paused' }, 'Dispatching is paused: running jobs go on, nothing new starts.'));
            const cards = el('div', { class: 'cards', id: 'counts' });
            for (const state of STATES) {
              cards.append(el('div', { class: 'card', 'data-state': state },
                el('div', { class: 'label' }, state), el('div', { class: 'value' }, JD.number(stats[state]))));
            }
            const samples = history.samples || [];
            const current = history.current || { finished: 0, failed: 0 };
            const nowFinished = current.finished + live.finished;
            const nowFailed = current.failed + live.failed;
            const finishedHour = samples.reduce((sum, s) => sum + s.finished, 0) + nowFinished;
            const failedHour = samples.reduce((sum, s) => sum + s.failed, 0) + nowFailed;
            cards.append(
              el('div', { class: 'card' }, el('div', { class: 'label' }, 'failure rate, 1 h'),
                el('div', { class: 'value' }, JD.percent(failedHour, finishedHour))),
              el('div', { class: 'card' }, el('div', { class: 'label' }, 'failure rate, all'),
                el('div', { class: 'value' }, JD.percent(stats.failed, stats.failed + stats.succeeded))),
              el('div', { class: 'card' }, el('div', { class: 'label' }, 'workers'),
                el('div', { class: 'value' }, JD.number(stats.workers))),
              el('div', { class: 'card' }, el('div', { class: 'label' }, 'uptime'),
                el('div', { class: 'value' }, JD.duration(stats.uptime_seconds))));
            parts.push(cards);

            const now = Date.now();
            const at = (s) => new Date(s.time).getTime();
            const finished = samples.map((s) => ({ t: at(s), v: s.finished }));
            const failed = samples.map((s) => ({ t: at(s), v: s.failed }));
            const depth = samples.map((s) => ({ t: at(s), v: s.queued }));
            finished.push({ t: now, v: nowFinished });
            failed.push({ t: now, v: nowFailed });
            depth.push({ t: now, v: stats.queued });
            parts.push(el('div', { class: 'charts' },
              JD.chart('Throughput: attempts finished per minute', finished, { kind: 'bars' }),
              JD.chart('Queue depth: jobs queued', depth, { kind: 'line' }),
              JD.chart('Failures per minute', failed, { kind: 'bars', bad: true })));

            const byKind = {};
            for (const job of running.jobs || []) byKind[job.kind] = (byKind[job.kind] || 0) + 1;
            const kindRows = Object.keys(byKind).sort().map((kind) => JD.row([kind, JD.num(byKind[kind])]));
            const hostRows = (stats.hosts || []).map((h) => JD.row([h.host, JD.num(h.running), JD.num(h.rate_limited)]));
            parts.push(el('div', { class: 'split' },
              el('section', null, el('h2', null, 'Running by kind'),
                JD.table(['kind', 'running#'], kindRows, 'Nothing is running.')),
              el('section', null, el('h2', null, 'Hosts (this node)'),
                JD.table(['host', 'fetching#', 'waiting for rate limit#'], hostRows, 'No fetch in progress.'))));

            const runningRows = (running.jobs || []).slice(0, 20).map((job) => JD.row([
              JD.jobLink(job.id), job.kind, el('span', { class: 'target' }, JD.target(job.spec)),
              JD.num(job.attempt_count), JD.duration(JD.since(job.updated_at)),
            ]));
            parts.push(el('h2', null, 'Running now'),
              JD.table(['id', 'kind', 'target', 'attempt#', 'running for'], runningRows, 'Nothing is running.'));

            if (nodes.engine === 'postgres') {
              const nodeRows = (nodes.nodes || []).map((n) => JD.row([
                n.name, n.version, JD.num(n.workers), JD.num(n.running), n.alive ? 'yes' : 'no',
                n.leader ? 'leader' : '', JD.time(n.lease_expires_at),
              ]));
              parts.push(el('h2', null, 'Nodes'),
                JD.table(['name', 'version', 'workers#', 'running#', 'alive', 'role', 'lease until'], nodeRows, 'No nodes.'));
            } else {
              parts.push(el('p', { class: 'muted' }, 'Engine: SQLite (one node). Charts: one sample a minute, kept in memory by jobd; the last bar is the current minute, live.'));
            }
            return parts;
          }
        })();

        """#
}
