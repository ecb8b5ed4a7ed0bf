import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** Long-lived for library files, revalidated for the page itself. */
  readonly cacheControl: string;
}

const require = createRequire(import.meta.url);
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

const LIBRARY = 'public, max-age=86400';
const PAGE = 'no-cache';

/**
 * The files the API serves besides JSON, read once at start: the chart page (with
 * the collection interval filled in), uPlot, and Swagger UI for /docs. Everything
 * comes from the project and its installed packages: no CDN, deployments are
 * often offline.
 */
export function loadAssets(collectIntervalMs: number): ReadonlyMap<string, Asset> {
  const swagger = packageDir('swagger-ui-dist');
  const uplot = join(packageDir('uplot'), 'dist');
  const file = (path: string, type: string, cacheControl = LIBRARY): Asset => ({ type, body: readFileSync(path), cacheControl });
  const page = readFileSync(join(WEB, 'index.html'), 'utf8').replace('{{COLLECT_INTERVAL_SECONDS}}', String(collectIntervalMs / 1_000));
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(page), cacheControl: PAGE }],
    ['/assets/chart.js', file(join(WEB, 'chart.js'), 'text/javascript; charset=utf-8', PAGE)],
    ['/assets/uPlot.iife.min.js', file(join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8')],
    ['/assets/uPlot.min.css', file(join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8')],
    ['/docs', { type: 'text/html; charset=utf-8', body: Buffer.from(DOCS_PAGE), cacheControl: PAGE }],
    ['/docs/swagger-ui.css', file(join(swagger, 'swagger-ui.css'), 'text/css; charset=utf-8')],
    ['/docs/swagger-ui-bundle.js', file(join(swagger, 'swagger-ui-bundle.js'), 'text/javascript; charset=utf-8')],
  ]);
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Memory Tracker API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#swagger-ui' });</script>
</body>
</html>
`;
