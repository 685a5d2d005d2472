import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { StateStore, rfc3339Nano, specNeeded, status, validateId, writeFileAtomic, type ContainerRecord } from '../../src/state/store';
import { withLock } from '../../src/state/lock';
import { procStat } from '../../src/linux/proc';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-state-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function record(id: string, pid: number, startTime?: string): ContainerRecord {
  return { version: 1, id, ociVersion: '1.3.0', bundle: '/b', rootfs: '/r', pid, pidStartTime: startTime, created: rfc3339Nano(0n), owner: '', cgroups: { dirs: [], created: [] } };
}

describe('state', () => {
  it('formats times as Go RFC3339Nano', () => {
    assert.equal(rfc3339Nano(1700000000123456789n), '2023-11-14T22:13:20.123456789Z');
    assert.equal(rfc3339Nano(1700000000120000000n), '2023-11-14T22:13:20.12Z');
    assert.equal(rfc3339Nano(1700000000000000000n), '2023-11-14T22:13:20Z');
  });

  it('derives the status from the kernel, not from what was written', () => {
    const store = new StateStore(tmp);
    const me = procStat(process.pid)!;
    store.claim('alive');
    const rec = record('alive', process.pid, me.startTime);
    store.write(rec);
    fs.writeFileSync(store.fifoPath('alive'), '');
    assert.equal(status(store, rec), 'running', 'a FIFO left behind by a killed start, the program running');
    const title = process.title;
    process.title = 'tsrunc:[init]'; // what the init's chain calls itself until it executes the program
    try {
      assert.equal(status(store, rec), 'created', 'alive, still the chain, with the exec FIFO');
    } finally {
      process.title = title;
    }
    fs.unlinkSync(store.fifoPath('alive'));
    assert.equal(status(store, rec), 'running');
    assert.equal(status(store, record('x', process.pid, '1')), 'stopped', 'same pid, other start time: a reused pid');
    assert.equal(status(store, record('x', 0x3fffff)), 'stopped');
    assert.equal(status(store, { ...record('x', 0), creating: { pid: process.pid, startTime: me.startTime } }), 'creating');
    assert.equal(status(store, { ...record('x', 0), creating: { pid: 0x3fffff, startTime: '1' } }), 'stopped', 'a create that died');
  });

  it('start and delete read config.json only for what the record says they need of it', () => {
    const rec = (later?: ContainerRecord['later']) => ({ id: 'x', later }) as ContainerRecord;
    // a record written before `later` existed: always
    assert.equal(specNeeded(rec(), 'start'), true);
    assert.equal(specNeeded(rec(), 'delete'), true);
    assert.equal(specNeeded(rec({ hooks: [], process: true }), 'start'), false);
    assert.equal(specNeeded(rec({ hooks: [], process: true }), 'delete'), false);
    assert.equal(specNeeded(rec({ hooks: [], process: false }), 'start'), true, 'start refuses a container without a process');
    assert.equal(specNeeded(rec({ hooks: ['startContainer'], process: true }), 'start'), true);
    assert.equal(specNeeded(rec({ hooks: ['poststart'], process: true }), 'start'), true);
    assert.equal(specNeeded(rec({ hooks: ['poststart'], process: true }), 'delete'), false);
    assert.equal(specNeeded(rec({ hooks: ['poststop'], process: true }), 'delete'), true);
    assert.equal(specNeeded(rec({ hooks: ['poststop'], process: true }), 'start'), false);
  });

  it('claims an id once', () => {
    const store = new StateStore(tmp);
    store.claim('once');
    assert.throws(() => store.claim('once'), /container with id once already exists/);
  });

  it('rejects ids that could escape the root', () => {
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b']) assert.throws(() => validateId(bad), /invalid container id/, bad);
    validateId('ok_id-1.2+3');
  });

  it('writes atomically (no temp file left behind)', () => {
    const f = path.join(tmp, 'atomic.json');
    writeFileAtomic(f, '{"a":1}');
    assert.equal(fs.readFileSync(f, 'utf8'), '{"a":1}');
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp')), []);
  });

  it('locks a container against other processes, and frees a lock whose holder was killed', async () => {
    const store = new StateStore(tmp);
    const lockModule = require.resolve('../../src/state/lock');
    // another process trying to lock: exit 0 when it got the lock within 300 ms, 1 when not
    const tryFromOutside = (id = 'l') =>
      new Promise<number | null>((resolve) => {
        const p = spawn(process.execPath, ['-e', `try { const r = require(${JSON.stringify(lockModule)}).lockDir(${JSON.stringify(path.join(tmp, id))}, 300); r(); } catch { process.exit(1); }`], { stdio: 'ignore' });
        p.on('exit', (code) => resolve(code));
      });
    const release = store.claim('l'); // made locked
    assert.equal(await tryFromOutside(), 1, 'held by the claim');
    release();
    assert.equal(await tryFromOutside(), 0, 'free once released');
    assert.equal(withLock(tmp, 'missing', () => 'ran') instanceof Promise, true, 'a missing container: nothing to lock, fn still runs');
    // a process that takes the lock and dies by SIGKILL does not leave it taken
    store.claim('k')();
    const holder = spawn(process.execPath, ['-e', `require(${JSON.stringify(lockModule)}).withLock(${JSON.stringify(tmp)}, 'k', () => { console.log('held'); return new Promise(() => setInterval(() => {}, 1000)); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    assert.equal(await tryFromOutside('k'), 1, 'held by the other process');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const t0 = Date.now();
    await withLock(tmp, 'k', () => undefined, 2000);
    assert.ok(Date.now() - t0 < 1000);
  });
});
