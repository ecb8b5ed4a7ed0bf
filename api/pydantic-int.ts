/**
 * Integer parsing of query strings exactly as pydantic-core (pydantic 2.6) does it
 * in lax mode, so clients of the original see the same 422 for the same input:
 * - longer than 4,300 bytes: `int_parsing_size`;
 * - an optional sign and ASCII digits (no whitespace trimming, no other digits);
 * - else, when a `.` is followed only by zeros (`1.0`, `2.`), the part before it;
 * - else single underscores between digits (`1_000`), none leading or trailing;
 * - strings of 19 bytes or more go through num-bigint, which is laxer about
 *   underscores (any after the first digit): reproduced too.
 */
export type IntParseResult =
  | { readonly ok: true; readonly value: bigint }
  | { readonly ok: false; readonly type: 'int_parsing' | 'int_parsing_size' };

const MAX_INT_STRING_BYTES = 4_300;
const I64_DIGITS = /^[+-]?[0-9]+$/;
const BIGINT_BODY = /^[0-9][0-9_]*$/;

export function parsePydanticInt(text: string): IntParseResult {
  const length = Buffer.byteLength(text, 'utf8');
  if (length > MAX_INT_STRING_BYTES) return { ok: false, type: 'int_parsing_size' };
  const direct = parseDigits(text, length);
  if (direct !== undefined) return { ok: true, value: direct };
  const withoutZeros = stripDecimalZeros(text);
  const stripped = withoutZeros ?? stripUnderscores(text);
  const value = stripped === undefined ? undefined : parseDigits(stripped, length);
  return value === undefined ? { ok: false, type: 'int_parsing' } : { ok: true, value };
}

/** pydantic-core's `_parse_str`: `length` is the original input's, as there. */
function parseDigits(text: string, length: number): bigint | undefined {
  if (length < 19) return I64_DIGITS.test(text) ? BigInt(text) : undefined;
  let body = text;
  let negative = false;
  if (body.startsWith('-')) {
    negative = true;
    if (!body.startsWith('-+')) body = body.slice(1);
  }
  if (body.startsWith('+') && !body.startsWith('++')) body = body.slice(1);
  if (!BIGINT_BODY.test(body)) return undefined;
  const value = BigInt(body.replaceAll('_', ''));
  return negative ? -value : value;
}

function stripDecimalZeros(text: string): string | undefined {
  const dot = text.indexOf('.');
  if (dot < 0) return undefined;
  return /^0*$/.test(text.slice(dot + 1)) ? text.slice(0, dot) : undefined;
}

function stripUnderscores(text: string): string | undefined {
  if (text.startsWith('_') || text.endsWith('_') || !text.includes('_') || text.includes('__')) return undefined;
  return text.replaceAll('_', '');
}
