import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool } from './tools.js';

/** A self-signed certificate for 127.0.0.1 and localhost, made for one test run: its own CA. */
export interface TestCertificate {
  readonly certificatePath: string;
  readonly privateKeyPath: string;
  /** The certificate, PEM: what a client is given to trust it. */
  readonly pem: string;
}

/** Makes one in `dir` with openssl (Debian's `openssl`); nothing of it is kept in the repository. */
export async function selfSignedCertificate(context: Mocha.Context, dir: string): Promise<TestCertificate> {
  requireTool(context, 'openssl', ['version'], 'REQUIRE_OPENSSL', 'Debian: apt-get install openssl');
  const certificatePath = join(dir, 'certificate.pem');
  const privateKeyPath = join(dir, 'private-key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=memory-tracker tests',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', privateKeyPath, '-out', certificatePath],
    { stdio: 'ignore' },
  );
  return { certificatePath, privateKeyPath, pem: await readFile(certificatePath, 'utf8') };
}
