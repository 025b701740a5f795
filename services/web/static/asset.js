/* The asset page's charts, drawn from /api/asset/<id>/series (aggregated by InfluxDB to at
 * most a few hundred windows per series). Marks the page with data-charts-ready when done. */
(function () {
  const cfg = JSON.parse(document.getElementById('asset-data').textContent);
  const events = cfg.events.concat(cfg.repairs);
  const status = document.getElementById('chart-status');
  const done = (text) => {
    status.textContent = text;
    document.body.dataset.chartsReady = String(window.pdmCharts.drawn.length);
  };
  const draw = (id, el, cols, names, opts) => {
    const series = names.map((n) => ({ label: n, values: cols.fields[n] }));
    window.pdmCharts.timeChart(el, cols.ts, series, Object.assign({ events }, opts));
    window.pdmCharts.drawn.push({ id, points: cols.ts.length * names.length });
  };
  fetch(cfg.seriesUrl)
    .then((r) => (r.ok ? r.json() : r.text().then((t) => Promise.reject(new Error(t)))))
    .then((s) => {
      if (s.scores.ts.length === 0 && s.readings.ts.length === 0) return done('No data in this range.');
      const fields = Object.keys(s.scores.fields);
      draw('health-chart', document.getElementById('health-chart'), s.scores, fields.filter((f) => f === 'health' || f === 'score'), { range: [0, 1] });
      draw('scores-chart', document.getElementById('scores-chart'), s.scores, fields.filter((f) => f.startsWith('score_')), { range: [0, 1] });
      const grid = document.getElementById('sensor-charts');
      for (const name of Object.keys(s.readings.fields)) {
        const el = document.createElement('div');
        el.className = 'chart sensor';
        grid.appendChild(el);
        draw(`sensor-${name}`, el, s.readings, [name], { height: 180, title: name, labels: false });
      }
      done(`${Math.round(s.windowMs / 60000)}-minute windows`);
    })
    .catch((err) => done(`Charts could not load: ${err.message}`));
})();
