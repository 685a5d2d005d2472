// The container's statistics in runc's `events` format (libcontainer's types/events.go), read
// from whichever hierarchy serves each controller (v1, v2, or both on a hybrid host). Counters are
// uint64 in the kernel and in runc's JSON: they are BigInt here and printed exactly (toJson),
// never rounded through a double. runc's omitempty fields are left out when zero.

import fs = require('node:fs');
import path = require('../path');
import { dirFor, type ContainerCgroup } from './index';

type J = bigint | number | string | boolean | null | J[] | { [k: string]: J | undefined };

const MAX_U64 = 18446744073709551615n;

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function u64(text: string | undefined): bigint {
  if (text === undefined) return 0n;
  const t = text.trim();
  if (t === 'max') return MAX_U64;
  if (!/^-?\d+$/.test(t)) return 0n;
  const v = BigInt(t);
  return v < 0n ? 0n : v;
}

/** "key value" lines → map */
function keyed(text: string | undefined): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

/** "0-3,5" → [0,1,2,3,5] */
function cpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

const nz = (v: bigint): bigint | undefined => (v === 0n ? undefined : v);
const nzList = <T>(v: T[]): T[] | undefined => (v.length ? v : undefined);

function hugePageSizes(): string[] {
  try {
    return fs
      .readdirSync('/sys/kernel/mm/hugepages')
      .map((d) => Number(/^hugepages-(\d+)kB$/.exec(d)?.[1] ?? 0))
      .filter((kb) => kb > 0)
      .map((kb) => (kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`));
  } catch {
    return [];
  }
}

export function containerStats(cgroups: ContainerCgroup[]): Record<string, J | undefined> {
  const cg = (c: string) => dirFor(cgroups, c);
  return {
    cpu: cpuStats(cg('cpu'), cg('cpuacct')),
    cpuset: cpusetStats(cg('cpuset')),
    memory: memoryStats(cg('memory')),
    pids: pidsStats(cg('pids')),
    blkio: blkioStats(cg('io')),
    hugetlb: hugetlbStats(cg('hugetlb')),
    intel_rdt: {},
    network_interfaces: null,
  };
}

function cpuStats(cpu: ContainerCgroup | undefined, cpuacct: ContainerCgroup | undefined): J {
  if (cpu?.hierarchy.version === 2) {
    const st = keyed(read(cpu.dir, 'cpu.stat'));
    const g = (k: string) => st.get(k) ?? 0n;
    return {
      usage: { total: nz(g('usage_usec') * 1000n), kernel: g('system_usec') * 1000n, user: g('user_usec') * 1000n },
      throttling: { periods: nz(g('nr_periods')), throttled_periods: nz(g('nr_throttled')), throttled_time: nz(g('throttled_usec') * 1000n) },
    };
  }
  const acct = cpuacct?.dir;
  const list = (f: string) => (read(acct, f) ?? '').trim().split(/\s+/).filter(Boolean).map((x) => BigInt(x));
  const ticks = keyed(read(acct, 'cpuacct.stat'));
  const hz = 100n; // USER_HZ
  const st = keyed(read(cpu?.dir, 'cpu.stat'));
  return {
    usage: {
      total: nz(u64(read(acct, 'cpuacct.usage'))),
      percpu: nzList(list('cpuacct.usage_percpu')),
      percpu_kernel: nzList(list('cpuacct.usage_percpu_sys')),
      percpu_user: nzList(list('cpuacct.usage_percpu_user')),
      kernel: ((ticks.get('system') ?? 0n) * 1000000000n) / hz,
      user: ((ticks.get('user') ?? 0n) * 1000000000n) / hz,
    },
    throttling: { periods: nz(st.get('nr_periods') ?? 0n), throttled_periods: nz(st.get('nr_throttled') ?? 0n), throttled_time: nz(st.get('throttled_time') ?? 0n) },
  };
}

function cpusetStats(cs: ContainerCgroup | undefined): J {
  if (!cs) return { cpu_exclusive: 0n, mem_hardwall: 0n, mem_exclusive: 0n, memory_migrate: 0n, memory_spread_page: 0n, memory_spread_slab: 0n, memory_pressure: 0n, sched_load_balance: 0n, sched_relax_domain_level: 0n };
  const v2 = cs.hierarchy.version === 2;
  const f = (name: string) => u64(read(cs.dir, `cpuset.${name}`));
  return {
    cpus: nzList(cpuList(read(cs.dir, v2 ? 'cpuset.cpus.effective' : 'cpuset.effective_cpus') ?? read(cs.dir, 'cpuset.cpus'))),
    cpu_exclusive: f('cpu_exclusive'),
    mems: nzList(cpuList(read(cs.dir, v2 ? 'cpuset.mems.effective' : 'cpuset.effective_mems') ?? read(cs.dir, 'cpuset.mems'))),
    mem_hardwall: f('mem_hardwall'),
    mem_exclusive: f('mem_exclusive'),
    memory_migrate: f('memory_migrate'),
    memory_spread_page: f('memory_spread_page'),
    memory_spread_slab: f('memory_spread_slab'),
    memory_pressure: f('memory_pressure'),
    sched_load_balance: f('sched_load_balance'),
    sched_relax_domain_level: f('sched_relax_domain_level'),
  };
}

function entry(limit: bigint, usage: bigint, max: bigint, failcnt: bigint): J {
  return { limit, usage: nz(usage), max: nz(max), failcnt };
}

function memoryStats(m: ContainerCgroup | undefined): J {
  if (!m) return { usage: entry(0n, 0n, 0n, 0n), swap: entry(0n, 0n, 0n, 0n), kernel: entry(0n, 0n, 0n, 0n), kernelTCP: entry(0n, 0n, 0n, 0n) };
  const d = m.dir;
  const raw = keyed(read(d, 'memory.stat'));
  const rawObj = raw.size ? Object.fromEntries(raw) : undefined;
  if (m.hierarchy.version === 2) {
    const events = keyed(read(d, 'memory.events'));
    const usage = u64(read(d, 'memory.current'));
    const swapUsage = u64(read(d, 'memory.swap.current'));
    const swapMax = read(d, 'memory.swap.max');
    return {
      cache: nz(raw.get('file') ?? 0n),
      usage: entry(u64(read(d, 'memory.max')), usage, u64(read(d, 'memory.peak')), events.get('max') ?? 0n),
      // runc reports v2 swap as memory+swap, the v1 meaning
      swap: entry(swapMax === undefined ? 0n : u64(swapMax), swapUsage + usage, 0n, events.get('max') ?? 0n),
      kernel: entry(0n, 0n, 0n, 0n),
      kernelTCP: entry(0n, 0n, 0n, 0n),
      raw: rawObj,
    };
  }
  const e = (prefix: string) => entry(u64(read(d, `${prefix}.limit_in_bytes`)), u64(read(d, `${prefix}.usage_in_bytes`)), u64(read(d, `${prefix}.max_usage_in_bytes`)), u64(read(d, `${prefix}.failcnt`)));
  return {
    cache: nz(raw.get('total_cache') ?? raw.get('cache') ?? 0n),
    usage: e('memory'),
    swap: e('memory.memsw'),
    kernel: e('memory.kmem'),
    kernelTCP: e('memory.kmem.tcp'),
    raw: rawObj,
  };
}

function pidsStats(p: ContainerCgroup | undefined): J {
  const max = read(p?.dir, 'pids.max')?.trim();
  return { current: nz(u64(read(p?.dir, 'pids.current'))), limit: nz(max === 'max' ? 0n : u64(max)) };
}

function blkioStats(io: ContainerCgroup | undefined): J {
  if (!io) return {};
  const bytes: J[] = [];
  const ios: J[] = [];
  if (io.hierarchy.version === 2) {
    for (const line of (read(io.dir, 'io.stat') ?? '').split('\n')) {
      const [dev, ...kv] = line.trim().split(/\s+/);
      if (!dev || !dev.includes(':')) continue;
      const [major, minor] = dev.split(':').map((x) => BigInt(x));
      const m = new Map(kv.map((x) => x.split('=') as [string, string]));
      const e = (op: string, v: string | undefined) => ({ major: nz(major), minor: nz(minor), op, value: nz(u64(v)) });
      bytes.push(e('Read', m.get('rbytes')), e('Write', m.get('wbytes')));
      ios.push(e('Read', m.get('rios')), e('Write', m.get('wios')));
    }
  } else {
    const parse = (file: string, out: J[]) => {
      for (const line of (read(io.dir, file) ?? '').split('\n')) {
        const [dev, op, v] = line.trim().split(/\s+/);
        if (!dev || !dev.includes(':') || v === undefined) continue;
        const [major, minor] = dev.split(':').map((x) => BigInt(x));
        out.push({ major: nz(major), minor: nz(minor), op, value: nz(u64(v)) });
      }
    };
    parse('blkio.throttle.io_service_bytes_recursive', bytes);
    parse('blkio.throttle.io_serviced_recursive', ios);
  }
  return { ioServiceBytesRecursive: nzList(bytes), ioServicedRecursive: nzList(ios) };
}

function hugetlbStats(h: ContainerCgroup | undefined): J {
  const out: Record<string, J> = {};
  if (!h) return out;
  for (const size of hugePageSizes()) {
    if (h.hierarchy.version === 2) {
      const ev = keyed(read(h.dir, `hugetlb.${size}.events`));
      out[size] = { usage: nz(u64(read(h.dir, `hugetlb.${size}.current`))), max: nz(u64(read(h.dir, `hugetlb.${size}.max`))), failcnt: ev.get('max') ?? 0n };
    } else {
      out[size] = { usage: nz(u64(read(h.dir, `hugetlb.${size}.usage_in_bytes`))), max: nz(u64(read(h.dir, `hugetlb.${size}.max_usage_in_bytes`))), failcnt: u64(read(h.dir, `hugetlb.${size}.failcnt`)) };
    }
  }
  return out;
}

/** How many times the OOM killer has killed in the container's memory cgroup (v1 oom_control, v2 memory.events). */
export function oomKills(cgroups: ContainerCgroup[]): bigint {
  const m = dirFor(cgroups, 'memory');
  if (!m) return 0n;
  if (m.hierarchy.version === 2) return keyed(read(m.dir, 'memory.events')).get('oom_kill') ?? 0n;
  const ctl = keyed(read(m.dir, 'memory.oom_control'));
  // with the OOM killer disabled nothing is killed: under_oom says the cgroup is at its limit
  return (ctl.get('oom_kill') ?? 0n) + (ctl.get('under_oom') ?? 0n);
}

/** JSON with BigInt printed exactly and undefined members left out (Go's omitempty). */
export function toJson(v: J | undefined): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  return `{${Object.entries(v)
    .filter(([, x]) => x !== undefined)
    .map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`)
    .join(',')}}`;
}
