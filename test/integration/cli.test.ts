import { expect } from 'chai';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { caseDirs } from '../helpers/case-dirs.js';
import { startCli } from '../helpers/cli.js';

/**
 * The CLI's exit code (or the signal that ended it) and output. A command that took
 * its arguments and started serving is killed after 10 s rather than left running.
 */
async function runBriefly(args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const cli = startCli(args, env);
  const kill = setTimeout(() => cli.child.kill('SIGKILL'), 10_000);
  const [code, signal] = (await once(cli.child, 'close')) as [number | null, string | null];
  clearTimeout(kill);
  return { code: code ?? signal ?? 'none', stdout: cli.stdout(), stderr: cli.stderr() };
}

describe("memory-tracker's command line: arguments it does not take", function () {
  this.timeout(30_000);
  const fresh = caseDirs('mt-cli-');

  for (const [args, unheard] of [
    [['serve', '--port', '9000'], 'serve takes no arguments, not "--port" "9000"'],
    [['all', 'x'], 'all takes no arguments, not "x"'],
    [['collect', '--interval=1s'], 'collect takes no arguments, not "--interval=1s"'],
    [['healthcheck', 'api', 'now'], 'healthcheck takes one argument at most (api or collector), not "now"'],
  ] as const) {
    it(`${args.join(' ')}: exit code 2, saying settings are environment variables, before starting anything`, async () => {
      const dataDir = fresh();
      const run = await runBriefly(args, { DATA_DIR: dataDir, PORT: '0' });
      expect(run).to.deep.include({ code: 2, stdout: '' });
      expect(run.stderr).to.equal(`${unheard}: settings come from environment variables (PORT=9000, say; see the README).\n`);
      expect(existsSync(dataDir), 'a data directory made').to.equal(false);
    });
  }

  it('--help or -h after a command prints the usage, and exits 0', async () => {
    for (const args of [['serve', '--help'], ['import', '-h']]) {
      const run = await runBriefly(args, { DATA_DIR: fresh() });
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stdout).to.include('Usage: memory-tracker <command> [options]');
    }
  });

  it('import --host with no host name in it: exit code 2, before opening the store', async () => {
    const dir = fresh();
    await mkdir(dir);
    const file = join(dir, 'rows.csv');
    await writeFile(file, 'timestamp,total,free,used\n1647033600,8192,2048,6144\n');
    const sqlitePath = join(dir, 'host.sqlite');
    for (const [host, problem] of [
      ['', 'host is empty'],
      ['web\\1', 'host contains a control character or a backslash'],
      ['h'.repeat(256), 'host is longer than 255 characters'],
    ] as const) {
      const run = await runBriefly(['import', file, '--host', host], { SQLITE_PATH: sqlitePath });
      expect(run).to.deep.include({ code: 2, stdout: '', stderr: `--host ${JSON.stringify(host)} is no host name: ${problem}.\n` });
    }
    expect(existsSync(sqlitePath)).to.equal(false);
  });
});
