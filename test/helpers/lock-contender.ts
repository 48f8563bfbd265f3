// A process contending for a repository lock, for test/unit/lock.test.ts. Each turn: take the lock, create
// `inside` exclusively (two owners at once would collide there), hold it a little, remove it, release.
// `--die` ends the process abruptly while holding the lock (a kill -9 as far as the lock file can tell).
// Usage: node lock-contender.ts GITDIR TURNS STALE_MS [--die]; prints one line of JSON: { turns, collisions }.
// START_AT (epoch ms) in the environment: wait until then, so contenders started together race to the millisecond.
import { openSync, closeSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { lockRepo } from '../../src/store/lock.ts';

const [gitdir, turnsArg, staleArg, mode] = process.argv.slice(2);
const staleMs = Number(staleArg);
const startAt = Number(process.env.START_AT ?? 0);
if (startAt > Date.now()) await new Promise((r) => setTimeout(r, startAt - Date.now()));
let collisions = 0;
let turns = 0;
for (let turn = 0; turn < Number(turnsArg); turn++) {
  const lock = await lockRepo(gitdir, { waitMs: 60_000, staleMs, heartbeatMs: staleMs / 6 });
  try {
    closeSync(openSync(join(gitdir, 'inside'), 'wx'));
  } catch {
    collisions++;
    console.error(`collision in pid ${process.pid}`);
    continue; // someone else is inside: leave their file alone
  }
  await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  unlinkSync(join(gitdir, 'inside'));
  turns++;
  if (mode === '--die') {
    console.log(JSON.stringify({ turns, collisions }));
    process.exit(0); // no release: the lock file stays, naming a process that is gone
  }
  await lock.release();
}
console.log(JSON.stringify({ turns, collisions }));
