// Peer: @vlasky/zongji (npm) streaming the same binlog range as canal-server: from
// --file/--pos, rows events of bench.t only (rows decoded by zongji), until --expect rows.
// Prints one JSON line. Usage:
//   node zongji_consumer.mjs --port 3307 --file mysql-bin.000001 --pos 4 --expect 550000
// Resolves @vlasky/zongji from ZONGJI_DIR/node_modules (installed by scripts/bench-e2e).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, v, i, all) => (i % 2 === 0 ? [...acc, [v.replace(/^--/, ''), all[i + 1]]] : acc), []),
);
const dir = process.env.ZONGJI_DIR || process.cwd();
const mod = await import(pathToFileURL(path.join(dir, 'node_modules/@vlasky/zongji/index.js')).href);
const ZongJi = mod.default || mod.ZongJi || mod;
const expect = Number(args.expect);
const maxSecs = Number(args['max-secs'] || 600);
const zj = new ZongJi({
  host: args.host || '127.0.0.1',
  port: Number(args.port || 3307),
  user: args.user || 'canal',
  password: args.password || 'canal',
});
let rows = 0;
let done = false;
const t0 = process.hrtime.bigint();
const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
function finish(err) {
  if (done) return;
  done = true;
  const s = secs();
  const out = { client: '@vlasky/zongji', rows, seconds: s, rows_per_s: rows / s, complete: rows >= expect };
  if (err) out.error = String(err);
  console.log(JSON.stringify(out));
  try { zj.stop(); } catch (_) { /* ignore */ }
  setTimeout(() => process.exit(err ? 1 : 0), 50);
}
zj.on('binlog', (ev) => {
  if (ev.rows) {
    rows += ev.rows.length;
    if (rows >= expect) finish();
  }
});
zj.on('error', (e) => finish(e));
setTimeout(() => finish('timeout'), maxSecs * 1000).unref();
zj.start({
  serverId: Number(args['server-id'] || 7002),
  filename: args.file,
  position: Number(args.pos),
  includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
  includeSchema: { bench: ['t'] },
});
