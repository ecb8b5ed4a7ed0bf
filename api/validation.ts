import { Ajv, type ErrorObject } from 'ajv';
import type { ListQuery } from '../storage/types.js';
import { RequestValidationError, type ValidationIssue } from './http-errors.js';
import { parsePydanticInt } from './pydantic-int.js';

const PYDANTIC_DOCS = 'https://errors.pydantic.dev/2.6/v/';

/**
 * The query parameters of `GET /memory-logs/`: the one source for validation here
 * and for the API's documentation. Properties are listed in the order errors are
 * reported, as FastAPI reports them in declaration order.
 */
export const MEMORY_LOGS_QUERY_SCHEMA = {
  type: 'object',
  properties: {
    limit: {
      type: 'integer',
      exclusiveMinimum: 0,
      exclusiveMaximum: 100_000,
      default: 10,
      description: 'How many points to return, oldest first, ending `skip` points before the newest.',
    },
    skip: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'How many of the newest points to leave out first. Beyond the data: an empty list.',
    },
    host: {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      // No store holds one (InfluxQL cannot even say most of them): a client's mistake,
      // such as a line's end read with the name, better told than answered `[]`.
      pattern: '^[^\\x00-\\x1F\\x7F]*$',
      description: 'The host to read, without control characters. Default: the host of the newest point.',
    },
  },
} as const;

type FieldName = keyof typeof MEMORY_LOGS_QUERY_SCHEMA.properties;
const FIELDS = Object.keys(MEMORY_LOGS_QUERY_SCHEMA.properties) as FieldName[];

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validateQuery = ajv.compile<Partial<Record<FieldName, number | string>>>(MEMORY_LOGS_QUERY_SCHEMA);

/**
 * Parses `limit`, `skip` and `host` from decoded query parameters. Unknown names
 * are ignored, as FastAPI ignores them. Throws RequestValidationError with one
 * pydantic-shaped issue per bad parameter.
 */
export function parseMemoryLogsQuery(params: ReadonlyMap<string, string>): ListQuery {
  const issues = new Map<FieldName, ValidationIssue>();
  const values: Partial<Record<FieldName, number | string>> = {};
  for (const field of FIELDS) {
    const raw = params.get(field);
    if (raw === undefined) continue;
    if (MEMORY_LOGS_QUERY_SCHEMA.properties[field].type === 'string') {
      values[field] = raw;
      continue;
    }
    const parsed = parsePydanticInt(raw);
    if (parsed.ok) values[field] = clampToSafe(parsed.value);
    else issues.set(field, parseIssue(parsed.type, field, raw));
  }
  if (!validateQuery(values)) {
    for (const error of validateQuery.errors ?? []) {
      const field = error.instancePath.slice(1) as FieldName;
      if (!issues.has(field)) issues.set(field, boundIssue(error, field, params.get(field) ?? ''));
    }
  }
  if (issues.size > 0) {
    throw new RequestValidationError(FIELDS.flatMap((field) => issues.get(field) ?? []));
  }
  return { limit: values.limit as number, skip: values.skip as number, host: values.host as string | undefined };
}

/**
 * Bounds are far inside ±2^53, so clamping keeps every comparison exact; a skip
 * clamped to 2^53 - 1 lies beyond any data and yields an empty page.
 */
function clampToSafe(value: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(value > max ? max : value < -max ? -max : value);
}

const PARSE_MESSAGES = {
  int_parsing: 'Input should be a valid integer, unable to parse string as an integer',
  int_parsing_size: 'Unable to parse input string as an integer, exceeded maximum size',
} as const;

function parseIssue(type: keyof typeof PARSE_MESSAGES, field: string, input: string): ValidationIssue {
  return { type, loc: ['query', field], msg: PARSE_MESSAGES[type], input, url: PYDANTIC_DOCS + type };
}

/** Maps an ajv keyword failure to pydantic's type, message and context. */
function boundIssue(error: ErrorObject, field: string, input: string): ValidationIssue {
  const bound = Number((error.params as { limit?: unknown }).limit);
  const [type, msg, ctx] = ((): [string, string, Record<string, number | string>] => {
    switch (error.keyword) {
      case 'pattern': {
        const { pattern } = error.params as { pattern: string };
        return ['string_pattern_mismatch', `String should match pattern '${pattern}'`, { pattern }];
      }
      case 'exclusiveMinimum':
        return ['greater_than', `Input should be greater than ${bound}`, { gt: bound }];
      case 'exclusiveMaximum':
        return ['less_than', `Input should be less than ${bound}`, { lt: bound }];
      case 'minimum':
        return ['greater_than_equal', `Input should be greater than or equal to ${bound}`, { ge: bound }];
      case 'maximum':
        return ['less_than_equal', `Input should be less than or equal to ${bound}`, { le: bound }];
      case 'minLength':
        return ['string_too_short', `String should have at least ${bound} character${bound === 1 ? '' : 's'}`, { min_length: bound }];
      case 'maxLength':
        return ['string_too_long', `String should have at most ${bound} character${bound === 1 ? '' : 's'}`, { max_length: bound }];
      default:
        throw new Error(`no pydantic mapping for ajv keyword "${error.keyword}"`);
    }
  })();
  return { type, loc: ['query', field], msg, input, ctx, url: PYDANTIC_DOCS + type };
}
