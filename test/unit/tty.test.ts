// The terminal proxy of a foreground run/exec must close the pty master exactly once: its read
// stream closes it when destroyed, after the read in flight returns (regression: proxyTerminal
// closed it too, so the stream's late close hit the fd the next open got — the container lock's,
// whose release then failed with EBADF, now and then, in the terminal test of CI).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { proxyTerminal } from '../../src/container/tty';
import { openPty } from '../helpers/pty';

test('the terminal proxy leaves no late close behind for the next fd', async () => {
  const { master, slave } = openPty();
  const proxy = proxyTerminal(master); // its read of the master is in flight: nothing to read yet
  await proxy.finish();
  const next = fs.openSync('/dev/null', 'r'); // the lowest free number: the master's, were it closed
  try {
    fs.closeSync(slave); // the read in flight returns (EIO): the stream closes what it holds
    await new Promise((r) => setTimeout(r, 100));
    assert.doesNotThrow(() => fs.fstatSync(next), 'the fd opened after finish() is still open');
  } finally {
    fs.closeSync(next);
  }
});
