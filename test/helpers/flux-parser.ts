import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * InfluxData's own Flux parser (the @influxdata/flux package: Rust built to
 * WebAssembly for bundlers). Under Node its glue cannot import the .wasm itself,
 * so this loader instantiates the module with the glue's imports and hands the
 * instance back to the glue.
 */
export interface FluxParser {
  /** The problems the parser found in `source`: empty when it parses cleanly. */
  problems(source: string): string[];
  /** Every string literal's value in `source`, as the parser read it. */
  strings(source: string): string[];
}

let loaded: Promise<FluxParser> | undefined;

export function loadFluxParser(): Promise<FluxParser> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<FluxParser> {
  const dir = dirname(createRequire(import.meta.url).resolve('@influxdata/flux/package.json'));
  const glueSource = readFileSync(join(dir, 'flux.js'), 'utf8');
  const wasmImport = "import * as wasm from './flux_bg.wasm';";
  if (!glueSource.includes(wasmImport)) throw new Error('@influxdata/flux: unexpected glue; the loader needs updating');
  const glue = (await import(
    `data:text/javascript,${encodeURIComponent(glueSource.replace(wasmImport, 'let wasm; export function __setWasm(exports) { wasm = exports; }'))}`
  )) as { __setWasm(exports: WebAssembly.Exports): void; parse(source: string): unknown };
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, 'flux_bg.wasm')), { './flux.js': glue as unknown as WebAssembly.ModuleImports });
  glue.__setWasm(instance.exports);
  return { problems: (source) => collectProblems(glue.parse(source)), strings: (source) => stringLiterals(glue.parse(source)) };
}

/** The parser keeps going past errors: they sit in `errors` arrays and Bad* nodes of the AST. */
function collectProblems(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const child of node) collectProblems(child, found);
  } else if (node !== null && typeof node === 'object') {
    const { errors, type } = node as { errors?: Array<{ msg?: string }>; type?: unknown };
    if (Array.isArray(errors)) found.push(...errors.map((error) => error.msg ?? JSON.stringify(error)));
    if (typeof type === 'string' && type.startsWith('Bad')) found.push(type);
    for (const child of Object.values(node)) collectProblems(child, found);
  }
  return found;
}

function stringLiterals(ast: unknown, found: string[] = []): string[] {
  if (Array.isArray(ast)) for (const child of ast) stringLiterals(child, found);
  else if (ast !== null && typeof ast === 'object') {
    const { type, value } = ast as { type?: unknown; value?: unknown };
    if (type === 'StringLiteral' && typeof value === 'string') found.push(value);
    for (const child of Object.values(ast)) stringLiterals(child, found);
  }
  return found;
}
