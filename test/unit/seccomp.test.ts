/**
 * Unit tests of the seccomp compiler: validation issues and their JSON pointers, flags, the chain
 * syscalls helper, explain, the generated tables against libseccomp itself, and the size and speed
 * of the filter for Docker's default profile next to what runc + libseccomp produce.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { LinuxSeccomp } from '../../src/spec/types';
import {
  CHAIN_SYSCALLS,
  SECCOMP_ARCHITECTURES,
  SECCOMP_FILTER_FLAG,
  SeccompError,
  checkSeccomp,
  compileSeccomp,
  deniedChainSyscalls,
  explainSeccomp,
  isSeccompDisabled,
} from '../../src/linux/seccomp';
import { SECCOMP_ARCHS, resolveSyscall } from '../../src/linux/seccomp/architectures';
import { SYSCALL_NAMES } from '../../src/linux/seccomp/syscalls-pseudo';
import { decode, run, validate } from '../helpers/bpf';
import { loadLibseccomp, loadError, runcReference } from '../helpers/libseccomp';

const lib = loadLibseccomp();
const needsLibseccomp = lib ? false : `libseccomp.so.2 not found (${loadError}); install it with apt-get install libseccomp2`;

const sharedDir = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'clients');
function sharedSeccomp(file: string): LinuxSeccomp | undefined {
  const p = path.join(sharedDir, file);
  return fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')).linux?.seccomp : undefined;
}
const docker = sharedSeccomp('sample-docker-config.json');

const ALLOW = 0x7fff0000;
const X86_64 = 0xc000003e;
const args0 = [0n, 0n, 0n, 0n, 0n, 0n];

function decideWith(profile: LinuxSeccomp, nr: number, args: bigint[] = args0, arch = X86_64): number {
  const program = decode(compileSeccomp(profile, { nativeArch: 'x86_64' }).program);
  return run(program, { arch, nr, args }).action;
}

describe('checkSeccomp', () => {
  const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
  const issues = (p: LinuxSeccomp) => checkSeccomp(p, '/linux/seccomp', 'x86_64');

  test('a good profile has no issues', () => {
    assert.deepEqual(issues(base), []);
    if (docker) assert.deepEqual(issues(docker), []);
  });

  test('unknown default action, action and operator name their entry', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_NOPE',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write'], action: 'SCMP_ACT_EXPLODE' },
        { names: ['close'], action: 'SCMP_ACT_ALLOW' },
        { names: ['openat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_SORT_OF' }] },
      ],
    };
    const found = issues(p);
    assert.deepEqual(found.map((i) => [i.pointer, i.rule]), [
      ['/linux/seccomp/defaultAction', 'seccomp-action'],
      ['/linux/seccomp/syscalls/1/action', 'seccomp-action'],
      ['/linux/seccomp/syscalls/3/args/1/op', 'seccomp-operator'],
    ]);
    assert.match(found[2].message, /SCMP_CMP_SORT_OF/);
  });

  test('argument index above 5 and values that are not unsigned 64-bit integers', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    assert.deepEqual(issues(p).map((i) => [i.pointer, i.rule]), [
      ['/linux/seccomp/syscalls/0/args/0/index', 'seccomp-arg-index'],
      ['/linux/seccomp/syscalls/1/args/0/value', 'seccomp-arg-value'],
      ['/linux/seccomp/syscalls/1/args/1/value', 'seccomp-arg-value'],
    ]);
    // exact 64-bit values are accepted as bigint
    const big: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 0xffffffffffffffffn as unknown as number, op: 'SCMP_CMP_EQ' }] }] };
    assert.deepEqual(issues(big), []);
    assert.equal(decideWith(big, 0, [0xffffffffffffffffn, 0n, 0n, 0n, 0n, 0n]), 0);
    assert.equal(decideWith(big, 0, [0xffffffffn, 0n, 0n, 0n, 0n, 0n]), ALLOW);
  });

  test('architectures and flags', () => {
    const p: LinuxSeccomp = { ...base, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX', 'SCMP_ARCH_S390X', 'SCMP_ARCH_LOONGARCH64'], flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_FAST'] };
    assert.deepEqual(issues(p).map((i) => [i.pointer, i.rule]), [
      ['/linux/seccomp/architectures/1', 'seccomp-architecture'],
      ['/linux/seccomp/architectures/2', 'seccomp-architecture'],
      ['/linux/seccomp/architectures/3', 'seccomp-architecture'],
      ['/linux/seccomp/flags/1', 'seccomp-flag'],
    ]);
    assert.match(issues(p)[1].message, /big-endian/);
  });

  test('empty architectures with argument rules is fine (native architecture only)', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: [], syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }] };
    assert.deepEqual(issues(p), []);
    assert.equal(decideWith(p, 135, [8n, 0n, 0n, 0n, 0n, 0n]), ALLOW);
    assert.equal(decideWith(p, 135, [9n, 0n, 0n, 0n, 0n, 0n]), 0x00050001);
  });

  test('conflicting rules (same comparisons, different actions) are refused like libseccomp does', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    const found = issues(p);
    assert.equal(found.length, 1);
    assert.equal(found[0].pointer, '/linux/seccomp/syscalls/2');
    assert.equal(found[0].rule, 'seccomp-conflicting-rules');
    assert.match(found[0].message, /personality/);
    assert.throws(() => compileSeccomp(p, { nativeArch: 'x86_64' }), SeccompError);
    if (lib) assert.ok('error' in runcReference(lib, p), 'libseccomp refuses it too');
  });

  test('duplicate unconditional rules: the first one wins, no error (as libseccomp)', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['read'], action: 'SCMP_ACT_KILL' }] };
    assert.deepEqual(issues(p), []);
    assert.equal(decideWith(p, 0), ALLOW);
  });

  test('notify: not as default action, and it needs listenerPath', () => {
    assert.deepEqual(issues({ defaultAction: 'SCMP_ACT_NOTIFY' }).map((i) => i.pointer), ['/linux/seccomp/defaultAction']);
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] };
    assert.deepEqual(issues(p).map((i) => i.pointer), ['/linux/seccomp/listenerPath']);
    const c = compileSeccomp({ ...p, listenerPath: '/run/agent.sock' }, { nativeArch: 'x86_64' });
    assert.equal(c.usesNotify, true);
  });

  test('errnoRet out of range and a custom pointer base', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1.5, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] };
    assert.deepEqual(checkSeccomp(p, '/seccomp', 'x86_64').map((i) => i.pointer), ['/seccomp/defaultErrnoRet', '/seccomp/syscalls/0/errnoRet']);
  });

  test('names libseccomp does not know are skipped, as runc does', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['no_such_call', 'read'], action: 'SCMP_ACT_ALLOW' }] };
    assert.deepEqual(issues(p), []);
    assert.equal(decideWith(p, 0), ALLOW);
  });

  test('no defaultAction and no syscalls means no filter', () => {
    assert.equal(isSeccompDisabled({ defaultAction: '' }), true);
    assert.equal(isSeccompDisabled(base), false);
  });
});

describe('compileSeccomp', () => {
  test('flags: runc defaults to SPEC_ALLOW when the profile has no flags key', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    assert.equal(compileSeccomp(p, { nativeArch: 'x86_64' }).flags, SECCOMP_FILTER_FLAG.SPEC_ALLOW);
    assert.equal(compileSeccomp(p, { nativeArch: 'x86_64', kernelFlags: new Set() }).flags, 0);
    assert.equal(compileSeccomp({ ...p, flags: [] }, { nativeArch: 'x86_64' }).flags, 0);
    assert.equal(compileSeccomp({ ...p, flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'] }, { nativeArch: 'x86_64' }).flags, SECCOMP_FILTER_FLAG.LOG | SECCOMP_FILTER_FLAG.TSYNC);
    assert.throws(() => compileSeccomp({ ...p, flags: ['SECCOMP_FILTER_FLAG_LOG'] }, { nativeArch: 'x86_64', kernelFlags: new Set(['SECCOMP_FILTER_FLAG_SPEC_ALLOW']) }), /not supported by this kernel/);
  });

  test('flags with notify: TSYNC needs TSYNC_ESRCH, WAIT_KILLABLE_RECV only with a listener', () => {
    const notify: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/a.sock', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'], syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] };
    assert.equal(compileSeccomp(notify, { nativeArch: 'x86_64' }).flags, SECCOMP_FILTER_FLAG.TSYNC | SECCOMP_FILTER_FLAG.TSYNC_ESRCH | SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV);
    assert.equal(compileSeccomp(notify, { nativeArch: 'x86_64', kernelFlags: new Set(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']) }).flags, SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV);
    const plain: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] };
    assert.equal(compileSeccomp(plain, { nativeArch: 'x86_64' }).flags, 0);
  });

  test('every action, errnoRet defaulting to EPERM, TRACE data, x32 guard and bad architecture', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_KILL_PROCESS',
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write'], action: 'SCMP_ACT_ERRNO' },
        { names: ['open'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['close'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
        { names: ['stat'], action: 'SCMP_ACT_TRAP' },
        { names: ['fstat'], action: 'SCMP_ACT_LOG' },
        { names: ['lstat'], action: 'SCMP_ACT_KILL' },
        { names: ['poll'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['lseek'], action: 'SCMP_ACT_NOTIFY' },
        // equal to the default: skipped, but it still raises runc's "highest known syscall" to 12
        { names: ['brk'], action: 'SCMP_ACT_KILL_PROCESS' },
      ],
      listenerPath: '/run/a.sock',
    };
    const expect: Array<[number, number]> = [[0, ALLOW], [1, 0x50001], [2, 0x5000d], [3, 0x7ff00007], [4, 0x30000], [5, 0x7ffc0000], [6, 0], [7, 0], [8, 0x7fc00000], [9, 0x80000000]];
    for (const [nr, action] of expect) assert.equal(decideWith(p, nr), action, `nr ${nr}`);
    // x32 numbers on an x86_64-only filter: libseccomp's bad-arch action (KILL_THREAD), except -1
    assert.equal(decideWith(p, 0x40000000), 0);
    // above the profile's highest syscall: runc's -ENOSYS stub
    assert.equal(decideWith(p, 400), 0x50026);
    assert.equal(decideWith(p, 0, args0, 0x40000003), 0, 'i386 is not in the filter');
  });

  test('64-bit argument comparisons split in halves', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x100000000, op: 'SCMP_CMP_GE' }] },
        { names: ['write'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 0xff00, valueTwo: 0x1200, op: 'SCMP_CMP_MASKED_EQ' }, { index: 2, value: 5, op: 'SCMP_CMP_LT' }] },
      ],
    };
    const a = (v0: bigint, v1 = 0n, v2 = 0n) => [v0, v1, v2, 0n, 0n, 0n];
    assert.equal(decideWith(p, 0, a(0xffffffffn)), ALLOW);
    assert.equal(decideWith(p, 0, a(0x100000000n)), 0x50001);
    assert.equal(decideWith(p, 1, a(0n, 0x12ffn, 4n)), 0x50001);
    assert.equal(decideWith(p, 1, a(0n, 0x12ffn, 5n)), ALLOW, 'both conditions must hold');
    assert.equal(decideWith(p, 1, a(0n, 0x11ffn, 4n)), ALLOW);
  });

  test('compileSeccomp throws SeccompError with the issues', () => {
    try {
      compileSeccomp({ defaultAction: 'SCMP_ACT_NOPE' }, { nativeArch: 'x86_64' });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof SeccompError);
      assert.equal(e.issues[0].pointer, '/linux/seccomp/defaultAction');
    }
  });

  test('aarch64 native', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'], syscalls: [{ names: ['read', 'openat'], action: 'SCMP_ACT_ALLOW' }] };
    const c = compileSeccomp(p, { nativeArch: 'aarch64' });
    const program = decode(c.program);
    validate(program);
    assert.equal(run(program, { arch: 0xc00000b7, nr: 63, args: args0 }).action, ALLOW);
    assert.equal(run(program, { arch: 0xc00000b7, nr: 57, args: args0 }).action, 0x50001);
    assert.equal(run(program, { arch: 0xc00000b7, nr: 64, args: args0 }).action, 0x50026, 'above the highest listed syscall');
    assert.equal(run(program, { arch: 0x40000028, nr: 3, args: args0 }).action, ALLOW, 'arm read');
    assert.equal(run(program, { arch: X86_64, nr: 0, args: args0 }).action, 0, 'x86_64 is a bad arch here');
  });
});

describe("Docker's default profile", { skip: docker ? false : 'shared/clients/sample-docker-config.json not found' }, () => {
  test('is small and fast next to runc + libseccomp', { skip: needsLibseccomp }, () => {
    const ours = compileSeccomp(docker!, { nativeArch: 'x86_64' });
    const program = decode(ours.program);
    validate(program);
    const ref = runcReference(lib!, docker!);
    assert.ok(!('error' in ref), 'runc + libseccomp accept the profile');
    if ('error' in ref) return;
    // mean path length over every x86_64 syscall number the profile can meet
    let oursSteps = 0;
    let refSteps = 0;
    let n = 0;
    for (let nr = 0; nr < 480; nr++) {
      const input = { arch: X86_64, nr, args: args0 };
      oursSteps += run(program, input).steps;
      refSteps += run(ref.program, input).steps;
      n++;
    }
    console.log(
      `Docker default profile (x86_64 + x86 + x32): tsrunc ${ours.instructions} instructions; ` +
        `runc + libseccomp ${lib!.version} ${ref.program.length} (libseccomp ${ref.libseccompInstructions} with runc's binary-tree optimisation + runc's -ENOSYS stub ${ref.stubInstructions}); ` +
        `mean instructions executed per x86_64 syscall: tsrunc ${(oursSteps / n).toFixed(1)}, runc ${(refSteps / n).toFixed(1)}`,
    );
    assert.ok(ours.instructions < ref.program.length / 2, 'at most half of the reference size');
    assert.ok(oursSteps < refSteps, 'fewer instructions executed on average');
    assert.equal(ours.flags, SECCOMP_FILTER_FLAG.SPEC_ALLOW);
    assert.equal(ours.usesNotify, false);
  });

  test('decides clone3 ENOSYS, clone without namespace flags, personality values', () => {
    const allow = (nr: number, a0: bigint) => decideWith(docker!, nr, [a0, 0n, 0n, 0n, 0n, 0n]);
    assert.equal(allow(435, 0n), 0x50026, 'clone3: ERRNO(ENOSYS) from the profile');
    assert.equal(allow(56, 0x11n), ALLOW, 'clone(SIGCHLD)');
    assert.equal(allow(56, 0x10000000n), 0x50001, 'clone(CLONE_NEWUSER)');
    assert.equal(allow(135, 0xffffffffn), ALLOW);
    assert.equal(allow(135, 0x1ffffffffn), 0x50001, '64-bit value differs in the high word');
    assert.equal(allow(165, 0n), 0x50001, 'mount: default EPERM');
    assert.equal(allow(470, 0n), 0x50026, 'a syscall newer than the profile: ENOSYS (runc patchbpf)');
  });

  test('explain prints one annotated line per instruction', () => {
    const c = compileSeccomp(docker!, { nativeArch: 'x86_64' });
    const lines = explainSeccomp(c);
    assert.equal(lines.length, c.instructions);
    assert.match(lines[0], /^0000: ld \[4\]\s+; architecture$/);
    assert.ok(lines.some((l) => /; x86_64\/x32$/.test(l)));
    assert.ok(lines.some((l) => /; ALLOW$/.test(l)));
    assert.ok(lines.some((l) => /args\[0\] low word/.test(l)));
  });

  test('the chain syscalls are all allowed', () => {
    assert.deepEqual(deniedChainSyscalls(docker!, 'x86_64'), []);
  });
});

describe('deniedChainSyscalls', () => {
  test('reports what the spawn chain still needs after the filter', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['rt_sigprocmask', 'execve', 'exit'], action: 'SCMP_ACT_ALLOW' },
        { names: ['exit_group'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['execveat'], action: 'SCMP_ACT_LOG' },
      ],
    };
    assert.deepEqual(deniedChainSyscalls(p, 'x86_64'), ['writev', 'exit_group']);
    assert.deepEqual(deniedChainSyscalls({ defaultAction: 'SCMP_ACT_KILL' }, 'aarch64'), [...CHAIN_SYSCALLS]);
    assert.deepEqual(deniedChainSyscalls({ defaultAction: 'SCMP_ACT_ALLOW' }, 'aarch64'), []);
  });
});

describe('syscall tables', () => {
  test('every name resolves on every little-endian architecture exactly as libseccomp resolves it', { skip: needsLibseccomp }, () => {
    let checked = 0;
    for (const arch of SECCOMP_ARCHS) {
      if (arch.bigEndian) continue;
      assert.equal(lib!.archResolveName(arch.name) >>> 0, arch.token, `token of ${arch.name}`);
      for (const name of SYSCALL_NAMES) {
        assert.equal(resolveSyscall(arch, name), lib!.resolveNameArch(arch.token, name), `${arch.name} ${name}`);
        checked++;
      }
      assert.equal(lib!.resolveNameArch(arch.token, 'no_such_syscall'), -1);
      assert.equal(resolveSyscall(arch, 'no_such_syscall'), undefined);
    }
    assert.ok(checked > 4000);
  });

  test('the architecture list covers the runtime spec except what libseccomp 2.5.4 lacks', () => {
    for (const oci of ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_PPC64LE']) {
      assert.ok(SECCOMP_ARCHITECTURES.includes(oci), oci);
    }
    assert.ok(!SECCOMP_ARCHITECTURES.includes('SCMP_ARCH_LOONGARCH64'));
  });
});
