/* Shared chart helpers of the fleet view (plain script, no build step): uPlot options for a
 * page-wide time series and a plugin that draws event markers (predictions, repairs). */
(function () {
  const COLORS = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00', '#00838f', '#5d4037', '#ad1457', '#455a64'];

  /** Vertical lines at each event time (ms), labelled where the label does not overlap the previous one. */
  function markers(events, labels) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.font = `${11 * devicePixelRatio}px system-ui`;
          let free = -Infinity;
          for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
            const x = u.valToPos(e.ts / 1000, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.strokeStyle = ctx.fillStyle = e.label.startsWith('repair') ? '#2e7d32' : '#c62828';
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            if (labels && x >= free) {
              ctx.fillText(e.label, x + 3, u.bbox.top + 12 * devicePixelRatio);
              free = x + ctx.measureText(e.label).width + 12 * devicePixelRatio;
            }
          }
          ctx.restore();
        }],
      },
    };
  }

  /** A time-series chart in `el`: `ts` in ms, `series` as [{label, values}]. */
  function timeChart(el, ts, series, opts) {
    const o = opts || {};
    const width = Math.max(300, el.clientWidth || 800);
    return new uPlot({
      width,
      height: o.height || 220,
      title: o.title,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
      scales: { x: { time: true }, ...(o.range ? { y: { range: o.range } } : {}) },
      plugins: o.events ? [markers(o.events, o.labels !== false)] : [],
    }, [ts.map((t) => t / 1000), ...series.map((s) => s.values)], el);
  }

  window.pdmCharts = { timeChart, drawn: [] };
})();
