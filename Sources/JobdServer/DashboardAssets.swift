/// The dashboard's files, compiled into the binary: HTML, CSS and small vanilla scripts.
///
/// No build step and no third-party code. The scripts build every element with
/// `createElement` and put every value that came from jobd (a job's URL, a fetched body,
/// an error message) in with `textContent`, never as markup: a fetched body is hostile
/// input. The page is served with `contentSecurityPolicy`, which allows no inline
/// script or style, so even a value that slipped into markup could not run.
enum DashboardAssets {
    /// One file.
    struct Asset: Sendable {
        var contentType: String
        var body: String
    }

    /// `Content-Security-Policy` of every dashboard file.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    /// Every file, by name (the part after `/ui/`).
    static let all: [String: Asset] = [
        "index.html": Asset(contentType: "text/html; charset=utf-8", body: indexHTML),
        "style.css": Asset(contentType: "text/css; charset=utf-8", body: styleCSS),
        "core.js": Asset(contentType: "text/javascript; charset=utf-8", body: coreJS),
        "charts.js": Asset(contentType: "text/javascript; charset=utf-8", body: chartsJS),
        "overview.js": Asset(contentType: "text/javascript; charset=utf-8", body: overviewJS),
        "jobs.js": Asset(contentType: "text/javascript; charset=utf-8", body: jobsJS),
        "workflows.js": Asset(contentType: "text/javascript; charset=utf-8", body: workflowsJS),
        "app.js": Asset(contentType: "text/javascript; charset=utf-8", body: appJS),
    ]

    static let indexHTML = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>jobd</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/ui/style.css">
        <script src="/ui/core.js" defer></script>
        <script src="/ui/charts.js" defer></script>
        <script src="/ui/overview.js" defer></script>
        <script src="/ui/jobs.js" defer></script>
        <script src="/ui/workflows.js" defer></script>
        <script src="/ui/app.js" defer></script>
        </head>
        <body>
        <header>
          <a class="brand" href="#/">jobd</a>
          <nav>
            <a href="#/" data-nav="overview">Overview</a>
            <a href="#/jobs" data-nav="jobs">Jobs</a>
            <a href="#/batches" data-nav="batches">Batches</a>
            <a href="#/schedules" data-nav="schedules">Schedules</a>
          </nav>
          <span id="live" class="live off">connecting…</span>
        </header>
        <main id="main"><p class="muted">Loading…</p></main>
        <noscript><p>The jobd dashboard needs JavaScript.</p></noscript>
        </body>
        </html>

        """#

    static let styleCSS = #"""
        :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #6b7383; --line: #e2e5ea;
          --accent: #2f6fde; --ok: #1f9d55; --bad: #d64545; --warn: #c98a13; --run: #2f6fde; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
          background: var(--bg); color: var(--ink); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 20px; background: #1d2330; color: #fff; }
        header a { color: #cfd6e4; text-decoration: none; }
        header a.brand { color: #fff; font-weight: 700; font-size: 16px; }
        nav { display: flex; gap: 16px; flex: 1; }
        nav a.active { color: #fff; border-bottom: 2px solid var(--accent); }
        .live { font-size: 12px; padding: 2px 8px; border-radius: 10px; }
        .live.on { background: #1f9d55; color: #fff; }
        .live.off { background: #6b7383; color: #fff; }
        main { padding: 16px 20px 40px; max-width: 1200px; margin: 0 auto; }
        h1 { font-size: 20px; margin: 4px 0 14px; }
        h2 { font-size: 15px; margin: 18px 0 8px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 10px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
        .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; margin-top: 12px; }
        .chart { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
        .chart h3 { margin: 0 0 4px; font-size: 13px; font-weight: 600; }
        .chart svg { width: 100%; height: auto; display: block; }
        .chart .axis { stroke: var(--line); stroke-width: 1; }
        .chart .tick { fill: var(--muted); font-size: 10px; }
        .chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
        .chart .area { fill: var(--accent); opacity: .12; }
        .chart .bar { fill: var(--accent); opacity: .8; }
        .chart .bar.bad { fill: var(--bad); }
        .chart .empty { fill: var(--muted); font-size: 12px; }
        table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: 12px; color: var(--muted); font-weight: 600; background: #fafbfc; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.target { max-width: 420px; overflow-wrap: anywhere; }
        tr.fresh td { animation: fresh 1.5s ease-out; }
        @keyframes fresh { from { background: #fff6cc; } to { background: transparent; } }
        a { color: var(--accent); }
        .state { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #e8ebf0; }
        .state.succeeded { background: #dcf3e5; color: #17683a; }
        .state.failed { background: #fbe0e0; color: #a12d2d; }
        .state.running { background: #dde8fb; color: #1f4fa6; }
        .state.queued, .state.waiting { background: #fdf0d5; color: #8a5d07; }
        .state.cancelled { background: #ececec; color: #555; }
        .filters { display: flex; gap: 10px; align-items: end; flex-wrap: wrap; margin-bottom: 10px; }
        .filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        select, input, button { font: inherit; padding: 4px 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
        button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
        .pager { display: flex; gap: 14px; margin-top: 10px; }
        dl.fields { display: grid; grid-template-columns: 160px 1fr; gap: 4px 14px; background: var(--card);
          border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 0; }
        dl.fields dt { color: var(--muted); }
        dl.fields dd { margin: 0; overflow-wrap: anywhere; }
        pre { background: #1d2330; color: #e6e9ef; padding: 10px 12px; border-radius: 6px; overflow: auto;
          max-height: 420px; white-space: pre-wrap; overflow-wrap: anywhere; }
        .error { color: var(--bad); }
        .muted { color: var(--muted); }
        .paused { background: #fdf0d5; border: 1px solid #f0d08a; padding: 6px 10px; border-radius: 6px; margin-bottom: 10px; }
        .split { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; }

        """#
}
