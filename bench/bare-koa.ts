/**
 * The floor for the throughput benchmark: a bare Koa + @koa/router server answering
 * a fixed 10-record array, on the port given as the first argument.
 */
import Router from '@koa/router';
import Koa from 'koa';

const body = JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ timestamp: 1_647_033_600 + i * 60, total: 8_192, free: 2_048, used: 6_144 })));
const app = new Koa();
const router = new Router();
router.get('/memory-logs/', (ctx) => {
  ctx.set('Content-Type', 'application/json');
  ctx.body = body;
});
app.use(router.routes());
app.listen(Number(process.argv[2]), '127.0.0.1', () => process.send?.('listening'));
