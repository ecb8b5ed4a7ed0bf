/**
 * The floors for the API's small page: a bare Koa + @koa/router server answering a
 * fixed 10-record array, on the port given as the first argument. The second says
 * how: `array` hands Koa the array, which Koa serializes on every request, as the
 * performance issue words its floor; `text` hands it the same records already
 * serialized, a stricter floor (the API's small pages are served from a cached text).
 */
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';

const records = Array.from({ length: 10 }, (_, i) => ({ timestamp: 1_647_033_600 + i * 60, total: 8_192, free: 2_048, used: 6_144 }));
const text = JSON.stringify(records);
const answer: Middleware =
  process.argv[3] === 'text'
    ? (ctx) => {
        ctx.set('Content-Type', 'application/json');
        ctx.body = text;
      }
    : (ctx) => {
        ctx.body = records;
      };
const app = new Koa();
const router = new Router();
router.get('/memory-logs/', answer);
app.use(router.routes());
app.listen(Number(process.argv[2]), '127.0.0.1');
