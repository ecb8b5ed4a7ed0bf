import { MEMORY_LOGS_QUERY_SCHEMA } from './validation.js';

const detail = (text: string) => ({
  description: text,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Detail' }, example: { detail: text } } },
});

const RECORDS_EXAMPLE = [
  { timestamp: 1647033600, total: 8192, free: 2048, used: 6144 },
  { timestamp: 1647033660, total: 8192, free: 1024, used: 7168 },
];

const VALIDATION_EXAMPLE = {
  detail: [
    {
      type: 'int_parsing',
      loc: ['query', 'limit'],
      msg: 'Input should be a valid integer, unable to parse string as an integer',
      input: 'ten',
      url: 'https://errors.pydantic.dev/2.6/v/int_parsing',
    },
  ],
};

const COMMON_ERRORS = {
  '401': detail('Not authenticated.'),
  '405': detail('Method Not Allowed.'),
  '429': detail('Too Many Requests.'),
  '500': detail('Internal server error.'),
};

/**
 * The OpenAPI 3.1 description of the API. The query parameters come from the very
 * schema the API validates with, so the two cannot drift apart.
 */
export function openApiDocument(version: string): Record<string, unknown> {
  const parameters = Object.entries(MEMORY_LOGS_QUERY_SCHEMA.properties).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Memory Tracker',
      version,
      description:
        "Each host's memory history: total, free (the kernel's MemAvailable) and used = total - free, in MiB, one point per collection interval. " +
        'Errors are `{"detail": …}`; validation errors are pydantic 2.6 items, byte for byte.',
    },
    // Relative to this document, so that "Try it out" keeps a proxy's path prefix.
    servers: [{ url: '.', description: 'where this document is served from' }],
    security: [{}, { basicAuth: [] }],
    paths: {
      '/memory-logs/': {
        get: {
          operationId: 'listMemoryLogs',
          summary: 'The memory history of one host',
          description:
            'Leaves out the newest `skip` points, then returns the `limit` points before them, oldest first. ' +
            'Fewer points than asked is not an error; a `skip` beyond the data returns `[]`. `/memory-logs` (no slash) answers 307 to this path with the same query.',
          parameters,
          responses: {
            '200': {
              description: 'The points, oldest first.',
              content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/MemoryRecord' } }, example: RECORDS_EXAMPLE } },
            },
            '422': {
              description: 'A bad parameter: one item per bad parameter, in the order limit, skip, host.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ValidationError' }, example: VALIDATION_EXAMPLE } },
            },
            '503': detail('Service unavailable.'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/hosts/': {
        get: {
          operationId: 'listHosts',
          summary: 'Every host, with the timestamp of its newest point, newest first',
          responses: {
            '200': {
              description: 'The hosts.',
              content: {
                'application/json': {
                  schema: { type: 'array', items: { $ref: '#/components/schemas/HostSummary' } },
                  example: [{ host: 'web-1', latest_timestamp: 1647033660 }],
                },
              },
            },
            '503': detail('Service unavailable.'),
            ...COMMON_ERRORS,
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'healthz',
          summary: 'Liveness: the process serves requests (open without auth)',
          security: [{}],
          responses: { '200': { description: 'Alive.', content: { 'application/json': { example: { status: 'ok' } } } } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          summary: 'Readiness: the store answers and its newest point is younger than two collection intervals (open without auth)',
          security: [{}],
          responses: {
            '200': { description: 'Ready.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' }, example: { status: 'ready', checks: { store: 'ok', freshness: 'ok' } } } } },
            '503': {
              description: 'Not ready: each check says what failed.',
              content: {
                'application/json': {
                  schema: { $ref: '#/components/schemas/Readiness' },
                  example: { status: 'not ready', checks: { store: 'ok', freshness: 'newest point is 300 s old (limit 120 s)' } },
                },
              },
            },
          },
        },
      },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics, text format (open without auth)',
          security: [{}],
          responses: { '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
    },
    components: {
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic', description: 'When BASIC_AUTH_USERS is set.' } },
      schemas: {
        MemoryRecord: {
          type: 'object',
          required: ['timestamp', 'total', 'free', 'used'],
          additionalProperties: false,
          properties: {
            timestamp: { type: 'integer', description: 'Seconds since the Unix epoch (UTC).' },
            total: { type: 'integer', description: 'MemTotal, MiB.' },
            free: { type: 'integer', description: 'MemAvailable, MiB.' },
            used: { type: 'integer', description: 'total - free, MiB.' },
          },
        },
        HostSummary: {
          type: 'object',
          required: ['host', 'latest_timestamp'],
          properties: { host: { type: 'string' }, latest_timestamp: { type: 'integer' } },
        },
        Detail: { type: 'object', required: ['detail'], properties: { detail: { type: 'string' } } },
        ValidationError: {
          type: 'object',
          required: ['detail'],
          properties: { detail: { type: 'array', items: { $ref: '#/components/schemas/ValidationIssue' } } },
        },
        ValidationIssue: {
          type: 'object',
          required: ['type', 'loc', 'msg', 'input', 'url'],
          properties: {
            type: {
              type: 'string',
              enum: ['int_parsing', 'int_parsing_size', 'greater_than', 'less_than', 'greater_than_equal', 'string_too_short', 'string_too_long'],
            },
            loc: { type: 'array', prefixItems: [{ const: 'query' }, { type: 'string' }], items: false },
            msg: { type: 'string' },
            input: { type: 'string', description: 'The raw value, after URL decoding.' },
            ctx: { type: 'object', additionalProperties: { type: 'integer' } },
            url: { type: 'string', format: 'uri' },
          },
        },
        Readiness: {
          type: 'object',
          required: ['status', 'checks'],
          properties: {
            status: { enum: ['ready', 'not ready'] },
            checks: { type: 'object', properties: { store: { type: 'string' }, freshness: { type: 'string' } } },
          },
        },
      },
    },
  };
}
