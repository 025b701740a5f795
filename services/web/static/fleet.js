/* The fleet page's chart: predictions raised per day (data embedded in the page). */
(function () {
  const data = JSON.parse(document.getElementById('raised-data').textContent);
  const el = document.getElementById('raised-chart');
  if (data.ts.length > 0) {
    window.pdmCharts.timeChart(el, data.ts, [{ label: 'raised', values: data.count }], { height: 200 });
    window.pdmCharts.drawn.push({ id: 'raised-chart', points: data.ts.length });
  }
  document.body.dataset.chartsReady = String(window.pdmCharts.drawn.length);
})();
