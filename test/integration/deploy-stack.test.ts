import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requireTool } from '../helpers/tools.js';

const DEPLOY = join(process.cwd(), 'deploy');
const HASH = '$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/';
const ENV = { USERNAME: 'hadi', HASHED_PASSWORD: HASH, DOMAIN: 'logger.example.org' };

interface Service {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: Array<{ source: string }>;
  volumes?: Array<{ type: string; source: string; target: string; read_only?: boolean }>;
  networks?: Record<string, unknown>;
  ports?: Array<{ target: number; published: number; mode?: string; protocol?: string }>;
  healthcheck?: { test: string[] };
  deploy?: {
    mode?: string;
    replicas?: number;
    labels?: Record<string, string>;
    update_config?: { failure_action?: string; order?: string };
    rollback_config?: unknown;
    resources?: { limits?: { cpus?: string; memory?: string } };
  };
}

interface Stack {
  services: Record<string, Service>;
  networks?: Record<string, { name?: string; external?: boolean }>;
  secrets?: Record<string, { name?: string; external?: boolean }>;
}

/** `docker stack config`: the docker CLI renders and validates a stack file without an engine. */
function stackConfig(file: string, env: Record<string, string>): { stack?: Stack; status: number | null; stderr: string } {
  const result = spawnSync('docker', ['stack', 'config', '-c', file], {
    cwd: DEPLOY,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { stack: result.status === 0 ? (parse(result.stdout) as Stack) : undefined, status: result.status, stderr: result.stderr };
}

describe('Swarm stack files (docker stack config)', () => {
  before(function () {
    requireTool(this, 'docker', ['--version'], 'REQUIRE_DOCKER', 'the docker CLI');
  });

  describe('docker-compose-deploy.yml', () => {
    let stack: Stack;
    before(() => {
      const rendered = stackConfig('docker-compose-deploy.yml', ENV);
      expect(rendered.stderr).to.equal('');
      stack = rendered.stack!;
    });
    const labels = (): Record<string, string> => stack.services.nginx!.deploy!.labels!;

    it('joins the external overlay networks mt-local and mt-public', () => {
      expect(stack.networks).to.deep.equal({ 'mt-local': { name: 'mt-local', external: true }, 'mt-public': { name: 'mt-public', external: true } });
      expect(Object.keys(stack.services.nginx!.networks!)).to.have.members(['mt-local', 'mt-public']);
      expect(Object.keys(stack.services.api!.networks!)).to.deep.equal(['mt-local']);
    });

    it("carries the seed's Traefik labels on nginx: basic auth, host rule, port 80", () => {
      expect(labels()).to.include({
        'traefik.enable': 'true',
        'traefik.http.middlewares.api-auth.basicauth.users': `hadi:${HASH}`,
        'traefik.http.routers.memory_tracker-http.rule': 'Host(`logger.example.org`)',
        'traefik.http.routers.memory_tracker-http.middlewares': 'api-auth,api-ratelimit',
        'traefik.http.services.memory_tracker.loadbalancer.server.port': '80',
      });
    });

    it('sets a rate limit that really applies (average too), keyed on the client address', () => {
      expect(labels()).to.include({
        'traefik.http.middlewares.api-ratelimit.ratelimit.average': '5',
        'traefik.http.middlewares.api-ratelimit.ratelimit.period': '1m',
        'traefik.http.middlewares.api-ratelimit.ratelimit.burst': '5',
        'traefik.http.middlewares.api-ratelimit.ratelimit.sourcecriterion.ipstrategy.depth': '0',
      });
      const tuned = stackConfig('docker-compose-deploy.yml', { ...ENV, RATE_LIMIT_AVERAGE: '60', RATE_LIMIT_IP_DEPTH: '1' }).stack!;
      expect(tuned.services.nginx!.deploy!.labels).to.include({
        'traefik.http.middlewares.api-ratelimit.ratelimit.average': '60',
        'traefik.http.middlewares.api-ratelimit.ratelimit.sourcecriterion.ipstrategy.depth': '1',
      });
    });

    it('refuses to render without the credentials and the domain, naming them', () => {
      const rendered = stackConfig('docker-compose-deploy.yml', { DOMAIN: 'x.example.org' });
      expect(rendered.status).to.not.equal(0);
      expect(rendered.stderr).to.match(/USERNAME|HASHED_PASSWORD/);
      expect(stackConfig('docker-compose-deploy.yml', { USERNAME: 'a', HASHED_PASSWORD: HASH }).stderr).to.include('DOMAIN');
    });

    it('runs the collector on every node, reading the host /proc read-only, named after the node', () => {
      const collector = stack.services.collector!;
      expect(collector.deploy!.mode).to.equal('global');
      expect(collector.command).to.deep.equal(['collect']);
      expect(collector.environment).to.include({ NODE_NAME: '{{.Node.Hostname}}', PROC_ROOT: '/host/proc' });
      expect(collector.volumes).to.deep.include({ type: 'bind', source: '/proc', target: '/host/proc', read_only: true });
      expect(collector.volumes!.some((volume) => volume.target === '/data' && volume.type === 'volume')).to.equal(true);
      expect(collector.healthcheck!.test).to.deep.equal(['CMD', 'node', 'dist/cli.js', 'healthcheck', 'collector']);
    });

    it('runs 2+ API replicas with rolling updates that roll back, healthchecks and limits', () => {
      const api = stack.services.api!;
      expect(api.deploy!.replicas).to.be.at.least(2);
      expect(api.deploy!.update_config).to.include({ failure_action: 'rollback', order: 'start-first' });
      expect(api.deploy!.rollback_config).to.be.an('object');
      expect(api.deploy!.resources!.limits).to.have.keys('cpus', 'memory');
      expect(api.healthcheck!.test).to.deep.equal(['CMD', 'node', 'dist/cli.js', 'healthcheck', 'api']);
    });

    it('pins InfluxDB to 1.x, keeps its data on a named volume and its credentials in secrets', () => {
      const influx = stack.services.influxdb!;
      expect(influx.image).to.match(/^influxdb:1\.\d+/);
      expect(influx.volumes!.some((volume) => volume.type === 'volume' && volume.target === '/var/lib/influxdb')).to.equal(true);
      expect(influx.environment).to.include({
        INFLUXDB_ADMIN_PASSWORD_FILE: '/run/secrets/influxdb_admin_password',
        INFLUXDB_USER_PASSWORD_FILE: '/run/secrets/influxdb_password',
        INFLUXDB_HTTP_AUTH_ENABLED: 'true',
      });
      expect(influx.secrets!.map((secret) => secret.source)).to.have.members(['influxdb_admin_password', 'influxdb_password']);
      expect(stack.services.api!.environment).to.include({ INFLUX_PASSWORD_FILE: '/run/secrets/influxdb_password' });
      expect(Object.keys(stack.secrets!)).to.have.members(['influxdb_admin_password', 'influxdb_password', 'grafana_admin_password']);
      for (const secret of Object.values(stack.secrets!)) expect(secret.external).to.equal(true);
    });

    it('puts no password in any variable: only *_FILE paths into /run/secrets', () => {
      let checked = 0;
      for (const [name, service] of Object.entries(stack.services)) {
        for (const [key, value] of Object.entries(service.environment ?? {})) {
          if (!/PASSWORD|TOKEN/.test(key)) continue;
          checked++;
          expect(key, `${name}: ${key}`).to.match(/_FILE$/);
          expect(value, `${name}: ${key}`).to.match(/^\/run\/secrets\//);
        }
      }
      expect(checked).to.be.at.least(5);
    });

    it('serves Grafana behind the same Traefik, admin password from a secret, and can leave it out', () => {
      const grafana = stack.services.grafana!;
      expect(grafana.environment).to.include({ GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana_admin_password' });
      expect(grafana.deploy!.labels).to.include({ 'traefik.enable': 'true', 'traefik.http.services.memory_tracker_grafana.loadbalancer.server.port': '3000' });
      expect(Object.keys(grafana.networks!)).to.include('mt-public');
      expect(grafana.deploy!.replicas).to.equal(1);
      const without = stackConfig('docker-compose-deploy.yml', { ...ENV, GRAFANA_REPLICAS: '0' }).stack!;
      expect(without.services.grafana!.deploy!.replicas).to.equal(0);
    });
  });

  it('docker-compose-dev.yml: API on 8000, collector, InfluxDB and Grafana', () => {
    const { stack, stderr } = stackConfig('docker-compose-dev.yml', {});
    expect(stderr).to.equal('');
    expect(Object.keys(stack!.services)).to.have.members(['api', 'collector', 'influxdb', 'grafana']);
    expect(stack!.services.api!.ports).to.deep.equal([{ mode: 'ingress', target: 8000, published: 8000, protocol: 'tcp' }]);
    expect(stack!.services.collector!.environment).to.include({ PROC_ROOT: '/host/proc' });
  });

  it('docker-compose-dev-influx2.yml: InfluxDB 2 (pinned) with INFLUX_API=v2 for the API and the collector', () => {
    const { stack, stderr } = stackConfig('docker-compose-dev-influx2.yml', {});
    expect(stderr).to.equal('');
    expect(stack!.services.influxdb!.image).to.match(/^influxdb:2\.\d+/);
    for (const name of ['api', 'collector']) expect(stack!.services[name]!.environment, name).to.include({ INFLUX_API: 'v2', INFLUX_ORG: 'memory-tracker' });
  });

  it('traefik-stack.yml: host-mode ports so the rate limit sees client addresses', () => {
    const { stack, stderr } = stackConfig('traefik-stack.yml', { ACME_EMAIL: 'ops@example.org' });
    expect(stderr).to.equal('');
    expect(stack!.services.traefik!.ports!.map((port) => port.mode)).to.deep.equal(['host', 'host']);
  });

  it('names an explicit tag, never latest, for every image', () => {
    const images: string[] = [];
    for (const [file, env] of [['docker-compose-deploy.yml', ENV], ['docker-compose-dev.yml', {}], ['docker-compose-dev-influx2.yml', {}], ['traefik-stack.yml', { ACME_EMAIL: 'a@b.c' }]] as const) {
      images.push(...Object.values(stackConfig(file, env).stack!.services).map((service) => service.image));
    }
    for (const dockerfile of ['Dockerfile', join('nginx', 'Dockerfile')]) {
      const text = readFileSync(join(DEPLOY, dockerfile), 'utf8');
      images.push(...[...text.matchAll(/^ARG NODE_IMAGE=(\S+)$|^FROM (\S+)/gm)].map((match) => match[1] ?? match[2]!).filter((image) => !image.startsWith('$')));
    }
    expect(images.length).to.be.greaterThan(8);
    for (const image of images) expect(image, image).to.match(/^[^:]+:(?!latest$)[\w.-]+$/);
  });
});

describe('Dockerfiles (static checks)', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in one stage and runs in another', () => {
    expect(stages).to.have.length(2);
    expect(stages[0]).to.match(/ AS build\n/);
    expect(runtime).to.include('COPY --from=build');
  });

  // Without the bundle the collector does not start (its scheduler runs dist/job/job.cjs).
  it("bundles the collector's run in the build stage", () => {
    expect(stages[0]).to.match(/tsc -p tsconfig\.build\.json[^]*npm run build:job[^]*npm prune/);
  });

  it('leaves dev dependencies and build tools behind', () => {
    expect(stages[0]).to.include('npm prune --omit=dev');
    expect(runtime).not.to.match(/apt-get|npm (ci|install)|python3|g\+\+|\bmake\b/);
  });

  // Node 22+ would otherwise size the young generation from the host's memory, and
  // the API's peak under large pages doubled (README, Configuration).
  it("caps V8's young generation for every process of the image", () => {
    expect(runtime).to.match(/^\s+NODE_OPTIONS=--max-semi-space-size=8$/m);
  });

  it('runs as a non-root user with a HEALTHCHECK', () => {
    expect(runtime).to.match(/^USER node$/m);
    expect(runtime).to.match(/^HEALTHCHECK .*\n?.*healthcheck/m);
  });

  it('ships the nginx config in its image, with a HEALTHCHECK', () => {
    const nginx = readFileSync(join(DEPLOY, 'nginx', 'Dockerfile'), 'utf8');
    expect(nginx).to.include('COPY default.conf.template /etc/nginx/templates/');
    expect(nginx).to.match(/^HEALTHCHECK /m);
  });

  it('copies only what the repository holds, and everything the build compiles', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) => match[1]!.split(' '));
    const root = readdirSync(process.cwd());
    for (const source of copied.filter((one) => one !== '*.ts')) expect(root, source).to.include(source.replace(/\/$/, ''));
    const compiled = (JSON.parse(readFileSync(join(process.cwd(), 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
    expect(copied).to.include.members([...compiled, 'web']);
  });
});
