import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { InfluxStore } from '../../storage/influx.js';
import { sharedInflux, type InfluxTarget } from '../helpers/influx-fixture.js';

const GRAFANA = join(process.cwd(), 'grafana');

interface Target {
  readonly refId: string;
  readonly query: string;
  readonly datasource: { uid: string };
}
interface Dashboard {
  readonly panels: Array<{ title: string; type: string; datasource: { uid: string }; targets: Target[] }>;
  readonly templating: { list: Array<{ name: string; query: string; datasource: { uid: string }; multi: boolean; includeAll: boolean }> };
}
interface Datasources {
  readonly datasources: Array<{ uid: string; type: string; url: string; jsonData: { version: string; dbName: string } }>;
}

const dashboard = JSON.parse(readFileSync(join(GRAFANA, 'dashboards', 'memory-tracker.json'), 'utf8')) as Dashboard;
const datasourceFiles = ['provisioning/datasources/influxdb.yml', 'datasource-swarm.yml'].map(
  (file) => parse(readFileSync(join(GRAFANA, file), 'utf8')) as Datasources,
);
const HOSTS = ['node-a', 'node-b'];

/** Grafana's macros and a two-host selection, substituted as Grafana substitutes them. */
function render(query: string): string {
  return query
    .replaceAll('$timeFilter', 'time > now() - 1h')
    .replaceAll('$__interval', '1m')
    .replaceAll('/^$host$/', `/^(${HOSTS.join('|')})$/`);
}

describe('Grafana provisioning and dashboard (queries run on a real influxd)', function () {
  this.timeout(30_000);
  let influx: InfluxTarget;
  let database: string;
  before(async function () {
    influx = await sharedInflux(this);
    const config = { ...influx.storeConfig(), collectIntervalMs: 60_000 };
    database = config.database;
    // Collector-shaped data: two hosts, one point a minute for the last hour.
    const now = Math.floor(Date.now() / 60_000) * 60;
    const points = HOSTS.flatMap((host, h) =>
      Array.from({ length: 60 }, (_, i) => ({ host, timestamp: now - i * 60, total: 8_192, free: 4_096 - h * 1_000 - i, used: 4_096 + h * 1_000 + i })),
    );
    await new InfluxStore(config).write(points);
  });

  async function run(query: string): Promise<Array<{ tags?: Record<string, string>; columns: string[]; values: unknown[][] }>> {
    const params = new URLSearchParams({ db: database, epoch: 's', q: query });
    const body = (await (await fetch(`${influx.url}/query?${params}`)).json()) as { results: Array<{ error?: string; series?: [] }> };
    expect(body.results[0]!.error, query).to.equal(undefined);
    return body.results[0]!.series ?? [];
  }

  it('provisions one InfluxQL datasource with a fixed uid, the same in dev and in the Swarm stack', () => {
    for (const file of datasourceFiles) {
      expect(file.datasources).to.have.length(1);
      expect(file.datasources[0]).to.deep.include({ uid: 'memory-tracker-influxdb', type: 'influxdb', url: 'http://influxdb:8086' });
      expect(file.datasources[0]!.jsonData).to.include({ version: 'InfluxQL', dbName: 'memory_tracker' });
    }
  });

  it('points every panel, query and variable at that uid', () => {
    const uids = [
      ...dashboard.panels.flatMap((panel) => [panel.datasource.uid, ...panel.targets.map((target) => target.datasource.uid)]),
      ...dashboard.templating.list.map((variable) => variable.datasource.uid),
    ];
    expect(uids.length).to.be.greaterThan(4);
    expect(new Set(uids)).to.deep.equal(new Set(['memory-tracker-influxdb']));
  });

  it('offers a host selector that lists the hosts', async () => {
    const variable = dashboard.templating.list.find((one) => one.name === 'host')!;
    expect(variable).to.include({ multi: true, includeAll: true });
    const [series] = await run(variable.query);
    expect(series!.values.map((row) => row[1])).to.deep.equal(HOSTS);
  });

  it('loads the dashboard from where both compose files put it', () => {
    const provider = parse(readFileSync(join(GRAFANA, 'provisioning', 'dashboards', 'memory-tracker.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    const path = provider.providers[0]!.options.path;
    const deploy = join(process.cwd(), 'deploy');
    expect(readFileSync(join(deploy, 'docker-compose-dev.yml'), 'utf8')).to.include(`../grafana/dashboards:${path}:ro`);
    expect(readFileSync(join(deploy, 'docker-compose-deploy.yml'), 'utf8')).to.include(`target: ${path}/memory-tracker.json`);
  });

  it('has the panels users asked for: memory over time, used %, newest sample age', () => {
    expect(dashboard.panels.map((panel) => panel.title)).to.deep.equal(['Memory per host (MiB)', 'Used (%)', 'Newest sample age']);
  });

  for (const panel of dashboard.panels) {
    it(`"${panel.title}": every query returns a series per selected host`, async () => {
      for (const target of panel.targets) {
        const series = await run(render(target.query));
        expect(series.map((one) => one.tags?.host)).to.deep.equal(HOSTS);
        for (const one of series) expect(one.values.some((row) => row.slice(1).some((value) => typeof value === 'number'))).to.equal(true);
      }
    });
  }

  it('computes used % from the points', async () => {
    const series = await run(render(dashboard.panels[1]!.targets[0]!.query));
    const latest = series[0]!.values.filter((row) => row[1] !== null).at(-1)!;
    expect(latest[1]).to.be.closeTo((4_096 / 8_192) * 100, 0.01);
  });
});
