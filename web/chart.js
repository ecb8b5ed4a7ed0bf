// The built-in chart: used / free / total over time for one host, from the API.
// Plain browser JavaScript, no build step; uPlot is served from the installed package.
(() => {
  const intervalSeconds = Number(document.querySelector('meta[name="collect-interval-seconds"]').content) || 60;
  const hostSelect = document.getElementById('host');
  const rangeSelect = document.getElementById('range');
  const status = document.getElementById('status');
  const holder = document.getElementById('chart');
  let chart;

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(`${response.status}: ${typeof body.detail === 'string' ? body.detail : 'request failed'}`);
    }
    return response.json();
  }

  function options(width) {
    return {
      width,
      height: 420,
      scales: { y: { range: (u, min, max) => [0, Math.max(max, 1) * 1.05] } },
      axes: [{}, { label: 'MiB', size: 70 }],
      series: [
        {},
        { label: 'used', stroke: '#d1495b', fill: 'rgba(209,73,91,0.12)', width: 2 },
        { label: 'free', stroke: '#2e86ab', width: 2 },
        { label: 'total', stroke: '#5b6475', dash: [6, 4], width: 1.5 },
      ],
    };
  }

  async function draw() {
    const host = hostSelect.value;
    if (!host) return;
    const limit = Math.min(99999, Math.ceil(Number(rangeSelect.value) / intervalSeconds));
    try {
      const records = await getJson(`memory-logs/?host=${encodeURIComponent(host)}&limit=${limit}`);
      const data = [
        records.map((r) => r.timestamp),
        records.map((r) => r.used),
        records.map((r) => r.free),
        records.map((r) => r.total),
      ];
      if (chart) chart.setData(data);
      else chart = window.memoryChart = new uPlot(options(holder.clientWidth || 900), data, holder);
      const newest = records.at(-1);
      say(newest ? `${records.length} points, newest ${new Date(newest.timestamp * 1000).toLocaleString()}` : 'no points in this range', false);
    } catch (error) {
      say(`cannot load the history (${error.message})`, true);
    }
  }

  async function start() {
    try {
      const hosts = await getJson('hosts/');
      if (hosts.length === 0) {
        say('no points yet: the collector writes one every interval', false);
        return;
      }
      for (const { host } of hosts) hostSelect.add(new Option(host, host));
      const wanted = new URLSearchParams(location.search).get('host');
      if (wanted && hosts.some((h) => h.host === wanted)) hostSelect.value = wanted;
      await draw();
      setInterval(draw, Math.max(5, intervalSeconds) * 1000);
    } catch (error) {
      say(`cannot load the hosts (${error.message})`, true);
    }
  }

  hostSelect.addEventListener('change', draw);
  rangeSelect.addEventListener('change', draw);
  window.addEventListener('resize', () => chart && chart.setSize({ width: holder.clientWidth, height: 420 }));
  start();
})();
