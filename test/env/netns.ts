// A test host of the suite's own: a network namespace joined to this one by a veth pair. Servers the apiserver
// must reach at a non-loopback address (Endpoints refuse 127.0.0.0/8) are reached at the namespace's end of the
// pair, so test traffic never goes to the machine's own network addresses. Needs root and iproute2.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export interface TestHost {
  /** The address inside the namespace: what Endpoints point at. */
  address: string;
  /** This namespace's end of the pair: where a server of the test process listens for the forwarder. */
  peer: string;
  /** Forwards `address:port` inside the namespace to `peer:targetPort` here; resolves once it listens. */
  forward(port: number, targetPort: number): Promise<void>;
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

// A TCP relay small enough to pass as `node -e`: the test host runs nothing but it.
const RELAY = `const net = require('node:net'); const [listen, port, to, toPort] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(Number(toPort), to); c.pipe(u).pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(Number(port), listen, () => console.log('listening'));`;

export function createTestHost(): TestHost {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const ns = `kt-host-${id}`;
  const [here, there] = [`ktv${id}h`, `ktv${id}n`];
  const subnet = `10.233.${process.pid % 250}`;
  const [peer, address] = [`${subnet}.1`, `${subnet}.2`];
  const relays: ChildProcess[] = [];
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', here, 'type', 'veth', 'peer', 'name', there);
    ip('link', 'set', there, 'netns', ns);
    ip('addr', 'add', `${peer}/30`, 'dev', here);
    ip('link', 'set', here, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/30`, 'dev', there);
    ip('-n', ns, 'link', 'set', there, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  } catch (e) {
    try { ip('netns', 'del', ns); } catch { /* not made */ }
    throw new Error(`cannot make a test host in a network namespace (needs root and iproute2): ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`);
  }
  return {
    address, peer,
    forward: (port, targetPort) => new Promise((resolve, reject) => {
      const relay = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', RELAY, address, String(port), peer, String(targetPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
      relays.push(relay);
      relay.once('error', reject);
      relay.once('exit', (code) => reject(new Error(`the relay in ${ns} exited (${code})`)));
      relay.stdout!.once('data', () => resolve());
    }),
    close() {
      for (const r of relays) r.kill('SIGKILL');
      try { ip('netns', 'del', ns); } catch { /* gone */ } // deleting the namespace deletes the veth pair
    },
  };
}
