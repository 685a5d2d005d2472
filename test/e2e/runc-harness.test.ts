// The harness checked with runc: the same smoke subset the tsrunc files run, through the same
// clients, with Debian's runc (docker's default runtime, containerd's default runc binary, podman's
// "runc"). When this fails, the harness or the machine is at fault, not tsrunc.

import { describe } from 'node:test';
import { skipUnlessE2E, useClients } from './harness';
import { ctrSmoke, dockerSmoke, podmanSmoke } from './smoke';

describe('harness check with runc', { skip: skipUnlessE2E }, () => {
  useClients();
  describe('docker --runtime runc', () => dockerSmoke('runc'));
  describe('ctr (default runc binary)', () => ctrSmoke(null));
  describe('podman --runtime runc', () => podmanSmoke('runc'));
});
