// linux.resources → the cgroup files to write, pure (no file system): the planner knows, for each
// controller, whether the host serves it from a cgroup v1 hierarchy or from cgroup v2 (on a hybrid
// host both happen: v1 controllers, plus those only the cgroup2 mount has, such as hugetlb here),
// and turns each field into the file of that version. What a version cannot express is refused
// with a clear error naming the field; nothing is silently dropped.
//
// Docker's zero values mean "unset" (it sends `"shares": 0`, `"weight": 0`, `"kernel": 0`, and
// `update` sends every field, zero for "unchanged"), as runc reads them. Fields that are pointers
// in runc's Go types (swappiness, burst, idle, hugepage limits...) are applied whenever present.

import type { LinuxResources } from '../../spec/types';

export type CgroupVersion = 1 | 2;

export interface CgroupWrite {
  /** the controller whose hierarchy holds the file ('cgroup' for v2 core files, 'devices' for v1 rules) */
  controller: string;
  file: string;
  value: string;
  /** the config field, for error messages: `linux.resources.memory.limit` */
  field: string;
  /** the kernel may not have this file (v2 hugetlb .rsvd): skip it when missing */
  optional?: boolean;
  /** alternatives, first that exists wins (blkio.weight or blkio.bfq.weight) */
  alternatives?: Array<{ file: string; value: string }>;
}

export interface PlanHost {
  /** where a controller lives on this host; undefined: not available at all */
  version(controller: string): CgroupVersion | undefined;
  /** current value of a file in the container's cgroup (update: ordering of memory and swap, checkBeforeUpdate) */
  read?(controller: string, file: string): string | undefined;
}

export class ResourceError extends Error {}

const MAX_U64 = 18446744073709551615n;

interface Memory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}
interface Cpu {
  shares?: number;
  quota?: number;
  period?: number;
  burst?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}
interface DevRate {
  major: number;
  minor: number;
  rate?: number;
}
interface DevWeight {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}
interface BlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: DevWeight[];
  throttleReadBpsDevice?: DevRate[];
  throttleWriteBpsDevice?: DevRate[];
  throttleReadIOPSDevice?: DevRate[];
  throttleWriteIOPSDevice?: DevRate[];
}
interface Network {
  classID?: number;
  priorities?: Array<{ name: string; priority: number }>;
}

export interface PlanOptions {
  /** an update of a running container: checkBeforeUpdate applies, swap/limit order reads the current values */
  update?: boolean;
  /** the memory limit the container has (update without --memory but with --memory-swap, v2) */
  currentMemoryLimit?: number;
}

/** Memory values: -1 (or anything negative) means unlimited. */
function memValue(v: number, version: CgroupVersion): string {
  if (v < 0) return version === 1 ? '-1' : 'max';
  return String(v);
}

/** runc's conversion of cpu.shares [2, 262144] to cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** runc's conversion of blkio.weight [10, 1000] to io.weight [1, 10000]. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return Math.floor(1 + ((weight - 10) * 9999) / 990);
}

/**
 * runtime-spec swap is memory+swap; cgroup v2's memory.swap.max is swap alone (runc's
 * ConvertMemorySwapToCgroupV2Value). Returns undefined for "leave it".
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): string | undefined {
  if (swap === undefined || swap === 0) return undefined;
  if (swap < 0) return 'max';
  if (limit === undefined || limit === 0) throw new ResourceError('linux.resources.memory.swap: cgroup v2 cannot limit swap without a memory limit (memory.swap.max is swap alone, the spec gives memory+swap)');
  if (limit < 0) throw new ResourceError('linux.resources.memory.swap: cgroup v2 cannot limit swap when memory is unlimited (memory.limit -1)');
  if (swap < limit) throw new ResourceError(`linux.resources.memory.swap: memory+swap ${swap} is less than the memory limit ${limit}`);
  return String(swap - limit);
}

export interface ResourcePlan {
  writes: CgroupWrite[];
  /** every controller the writes need (v2: enabled in the parents' cgroup.subtree_control) */
  controllers: string[];
}

export function planResources(res: LinuxResources, host: PlanHost, opts: PlanOptions = {}): ResourcePlan {
  const writes: CgroupWrite[] = [];
  const need = (controller: string, field: string): CgroupVersion => {
    const v = host.version(controller);
    if (!v) throw new ResourceError(`${field}: the ${controller} cgroup controller is not available on this host`);
    return v;
  };
  const w = (controller: string, file: string, value: string | number, field: string, extra: Partial<CgroupWrite> = {}) => writes.push({ controller, file, value: String(value), field, ...extra });

  planMemory((res.memory ?? {}) as Memory, need, w, host, opts);
  planCpu((res.cpu ?? {}) as Cpu, need, w);
  if (res.pids && res.pids.limit !== undefined && res.pids.limit !== 0) {
    need('pids', 'linux.resources.pids.limit');
    w('pids', 'pids.max', res.pids.limit < 0 ? 'max' : res.pids.limit, 'linux.resources.pids.limit');
  }
  planBlockIO((res.blockIO ?? {}) as BlockIO, need, w);
  for (const [i, h] of (res.hugepageLimits ?? []).entries()) {
    const field = `linux.resources.hugepageLimits[${i}]`;
    if (!/^[1-9][0-9]*[KMG]B$/.test(h.pageSize)) throw new ResourceError(`${field}.pageSize: "${h.pageSize}" is not a page size like 2MB`);
    const v = need('hugetlb', field);
    if (v === 1) w('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit, field);
    else {
      w('hugetlb', `hugetlb.${h.pageSize}.max`, h.limit, field);
      w('hugetlb', `hugetlb.${h.pageSize}.rsvd.max`, h.limit, field, { optional: true });
    }
    if (v === 1) w('hugetlb', `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`, h.limit, field, { optional: true });
  }
  planNetwork((res.network ?? {}) as Network, need, w);
  for (const [dev, l] of Object.entries((res.rdma ?? {}) as Record<string, { hcaHandles?: number; hcaObjects?: number }>)) {
    const field = `linux.resources.rdma.${dev}`;
    need('rdma', field);
    w('rdma', 'rdma.max', `${dev} hca_handle=${l.hcaHandles ?? 'max'} hca_object=${l.hcaObjects ?? 'max'}`, field);
  }
  // unified last: it overrides what the fields above wrote (runc's order)
  for (const [key, value] of Object.entries(res.unified ?? {})) {
    const field = `linux.resources.unified["${key}"]`;
    if (key.includes('/') || key.startsWith('.') || !key.includes('.')) throw new ResourceError(`${field}: not a cgroup v2 file name`);
    const controller = key.slice(0, key.indexOf('.'));
    if (controller === 'cgroup') {
      if (host.version('cgroup') !== 2) throw new ResourceError(`${field}: unified resources need cgroup v2 (this host has no cgroup2 hierarchy)`);
    } else if (host.version(controller) !== 2) {
      throw new ResourceError(
        host.version(controller) === 1
          ? `${field}: the ${controller} controller is on a cgroup v1 hierarchy on this host: unified resources need it on cgroup v2`
          : `${field}: the ${controller} cgroup controller is not available on this host`,
      );
    }
    w(controller, key, value, field);
  }
  const controllers = [...new Set(writes.map((x) => x.controller))].filter((c) => c !== 'cgroup');
  return { writes, controllers };
}

type Need = (controller: string, field: string) => CgroupVersion;
type W = (controller: string, file: string, value: string | number, field: string, extra?: Partial<CgroupWrite>) => void;

function planMemory(m: Memory, need: Need, w: W, host: PlanHost, opts: PlanOptions): void {
  const f = (k: string) => `linux.resources.memory.${k}`;
  const set = (v: number | undefined) => v !== undefined && v !== 0;
  const any = set(m.limit) || set(m.reservation) || set(m.swap) || set(m.kernel) || set(m.kernelTCP) || m.swappiness !== undefined || m.disableOOMKiller || m.useHierarchy !== undefined;
  if (!any) return;
  const v = need('memory', f(Object.keys(m)[0] ?? 'limit'));
  if (opts.update && m.checkBeforeUpdate && set(m.limit) && m.limit! > 0) {
    const usage = Number(host.read?.('memory', v === 1 ? 'memory.usage_in_bytes' : 'memory.current') ?? 0);
    if (usage > m.limit!) throw new ResourceError(`${f('limit')}: rejecting memory limit ${m.limit} below the current usage ${usage} (checkBeforeUpdate)`);
  }
  if (v === 1) {
    if (set(m.limit) && set(m.swap)) {
      // memsw must stay >= limit at every step: raise memsw first when it grows (or becomes unlimited)
      const cur = host.read?.('memory', 'memory.memsw.limit_in_bytes');
      const curSwap = cur === undefined ? Infinity : Number(cur);
      const swapFirst = m.swap! < 0 || m.swap! > curSwap;
      const lim = () => w('memory', 'memory.limit_in_bytes', memValue(m.limit!, 1), f('limit'));
      const sw = () => w('memory', 'memory.memsw.limit_in_bytes', memValue(m.swap!, 1), f('swap'));
      if (swapFirst) {
        sw();
        lim();
      } else {
        lim();
        sw();
      }
    } else if (set(m.limit) && m.limit! < 0 && host.read?.('memory', 'memory.memsw.limit_in_bytes') !== undefined) {
      // unlimited memory with swap unset: unlimited memory+swap too (runc), memsw first
      w('memory', 'memory.memsw.limit_in_bytes', '-1', f('limit'));
      w('memory', 'memory.limit_in_bytes', '-1', f('limit'));
    } else if (set(m.limit)) w('memory', 'memory.limit_in_bytes', memValue(m.limit!, 1), f('limit'));
    else if (set(m.swap)) w('memory', 'memory.memsw.limit_in_bytes', memValue(m.swap!, 1), f('swap'));
    if (set(m.reservation)) w('memory', 'memory.soft_limit_in_bytes', memValue(m.reservation!, 1), f('reservation'));
    if (set(m.kernel)) w('memory', 'memory.kmem.limit_in_bytes', memValue(m.kernel!, 1), f('kernel'));
    if (set(m.kernelTCP)) w('memory', 'memory.kmem.tcp.limit_in_bytes', memValue(m.kernelTCP!, 1), f('kernelTCP'));
    if (m.swappiness !== undefined && BigInt(m.swappiness) !== MAX_U64) {
      if (m.swappiness < 0 || m.swappiness > 100) throw new ResourceError(`${f('swappiness')}: invalid value ${m.swappiness}: the valid range is 0-100`);
      w('memory', 'memory.swappiness', m.swappiness, f('swappiness'));
    }
    if (m.disableOOMKiller) w('memory', 'memory.oom_control', 1, f('disableOOMKiller'));
    if (m.useHierarchy !== undefined) w('memory', 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, f('useHierarchy'));
    return;
  }
  // cgroup v2
  if (set(m.kernel)) throw new ResourceError(`${f('kernel')}: cgroup v2 has no kernel memory limit (kernel memory is part of memory.max)`);
  if (set(m.kernelTCP)) throw new ResourceError(`${f('kernelTCP')}: cgroup v2 has no kernel TCP memory limit (it is part of memory.max)`);
  if (m.swappiness !== undefined && BigInt(m.swappiness) !== MAX_U64) throw new ResourceError(`${f('swappiness')}: cgroup v2 has no per-cgroup swappiness`);
  if (m.disableOOMKiller) throw new ResourceError(`${f('disableOOMKiller')}: cgroup v2 cannot disable the OOM killer`);
  if (m.useHierarchy === false) throw new ResourceError(`${f('useHierarchy')}: cgroup v2 is always hierarchical`);
  const limit = set(m.limit) ? m.limit : opts.currentMemoryLimit;
  const swap = swapToV2(m.swap, limit);
  // memory.swap.max is independent of memory.max: order does not matter
  if (set(m.limit)) w('memory', 'memory.max', memValue(m.limit!, 2), f('limit'));
  if (swap !== undefined) w('memory', 'memory.swap.max', swap, f('swap'));
  if (set(m.reservation)) w('memory', 'memory.low', memValue(m.reservation!, 2), f('reservation'));
}

function planCpu(c: Cpu, need: Need, w: W): void {
  const f = (k: string) => `linux.resources.cpu.${k}`;
  const set = (v: number | undefined) => v !== undefined && v !== 0;
  if (c.cpus || c.mems) {
    need('cpuset', f(c.cpus ? 'cpus' : 'mems'));
    // mems before cpus is what runc does; both are checked by the kernel against the parent
    if (c.mems) w('cpuset', 'cpuset.mems', c.mems, f('mems'));
    if (c.cpus) w('cpuset', 'cpuset.cpus', c.cpus, f('cpus'));
  }
  const anyCpu = set(c.shares) || set(c.quota) || set(c.period) || c.burst !== undefined || set(c.realtimeRuntime) || set(c.realtimePeriod) || c.idle !== undefined;
  if (!anyCpu) return;
  const v = need('cpu', f(set(c.shares) ? 'shares' : set(c.quota) ? 'quota' : set(c.period) ? 'period' : c.burst !== undefined ? 'burst' : c.idle !== undefined ? 'idle' : 'realtimeRuntime'));
  if (v === 1) {
    if (set(c.shares)) w('cpu', 'cpu.shares', c.shares!, f('shares'));
    // period before quota: the kernel checks quota against the period
    if (set(c.period)) w('cpu', 'cpu.cfs_period_us', c.period!, f('period'));
    if (set(c.quota)) w('cpu', 'cpu.cfs_quota_us', c.quota! < 0 ? -1 : c.quota!, f('quota'));
    if (c.burst !== undefined) w('cpu', 'cpu.cfs_burst_us', c.burst, f('burst'));
    if (set(c.realtimePeriod)) w('cpu', 'cpu.rt_period_us', c.realtimePeriod!, f('realtimePeriod'));
    if (set(c.realtimeRuntime)) w('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime!, f('realtimeRuntime'));
    if (c.idle !== undefined) w('cpu', 'cpu.idle', c.idle, f('idle'));
    return;
  }
  if (set(c.realtimeRuntime) || set(c.realtimePeriod)) throw new ResourceError(`${f(set(c.realtimeRuntime) ? 'realtimeRuntime' : 'realtimePeriod')}: cgroup v2 has no realtime CPU bandwidth control`);
  if (set(c.shares)) {
    if (c.shares! < 2 || c.shares! > 262144) throw new ResourceError(`${f('shares')}: ${c.shares} is out of the range 2-262144`);
    w('cpu', 'cpu.weight', sharesToWeight(c.shares!), f('shares'));
  }
  if (set(c.quota) || set(c.period)) {
    let max = set(c.quota) && c.quota! > 0 ? String(c.quota) : 'max';
    if (set(c.period)) max += ` ${c.period}`;
    w('cpu', 'cpu.max', max, f(set(c.quota) ? 'quota' : 'period'));
  }
  if (c.burst !== undefined) w('cpu', 'cpu.max.burst', c.burst, f('burst'));
  if (c.idle !== undefined) w('cpu', 'cpu.idle', c.idle, f('idle'));
}

function planBlockIO(b: BlockIO, need: Need, w: W): void {
  const f = (k: string) => `linux.resources.blockIO.${k}`;
  const lists: Array<[keyof BlockIO, string, string]> = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
  ];
  const any = (b.weight ?? 0) !== 0 || (b.leafWeight ?? 0) !== 0 || (b.weightDevice ?? []).length > 0 || lists.some(([k]) => ((b[k] as DevRate[] | undefined) ?? []).length > 0);
  if (!any) return;
  // the controller is blkio on v1 and io on v2: the host answers for 'io' either way
  const v = need('io', f('weight'));
  if (v === 1) {
    if (b.weight) w('blkio', 'blkio.weight', b.weight, f('weight'), { alternatives: [{ file: 'blkio.bfq.weight', value: String(b.weight) }] });
    if (b.leafWeight) w('blkio', 'blkio.leaf_weight', b.leafWeight, f('leafWeight'));
    for (const [i, d] of (b.weightDevice ?? []).entries()) {
      if (d.weight) w('blkio', 'blkio.weight_device', `${d.major}:${d.minor} ${d.weight}`, f(`weightDevice[${i}].weight`), { alternatives: [{ file: 'blkio.bfq.weight_device', value: `${d.major}:${d.minor} ${d.weight}` }] });
      if (d.leafWeight) w('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, f(`weightDevice[${i}].leafWeight`));
    }
    for (const [k, file] of lists) for (const [i, d] of ((b[k] as DevRate[] | undefined) ?? []).entries()) w('blkio', file, `${d.major}:${d.minor} ${d.rate ?? 0}`, f(`${k}[${i}]`));
    return;
  }
  if (b.leafWeight) throw new ResourceError(`${f('leafWeight')}: cgroup v2 has no leaf weights`);
  if (b.weight) w('io', 'io.bfq.weight', b.weight, f('weight'), { alternatives: [{ file: 'io.weight', value: String(blkioWeightToIoWeight(b.weight)) }] });
  for (const [i, d] of (b.weightDevice ?? []).entries()) {
    if (d.leafWeight) throw new ResourceError(`${f(`weightDevice[${i}].leafWeight`)}: cgroup v2 has no leaf weights`);
    if (d.weight) w('io', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, f(`weightDevice[${i}].weight`), { alternatives: [{ file: 'io.weight', value: `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}` }] });
  }
  for (const [k, , key] of lists) {
    for (const [i, d] of ((b[k] as DevRate[] | undefined) ?? []).entries()) w('io', 'io.max', `${d.major}:${d.minor} ${key}=${d.rate ? d.rate : 'max'}`, f(`${k}[${i}]`));
  }
}

function planNetwork(n: Network, need: Need, w: W): void {
  if (n.classID) {
    const v = need('net_cls', 'linux.resources.network.classID');
    if (v === 2) throw new ResourceError('linux.resources.network.classID: cgroup v2 has no net_cls controller');
    w('net_cls', 'net_cls.classid', n.classID, 'linux.resources.network.classID');
  }
  for (const [i, p] of (n.priorities ?? []).entries()) {
    const field = `linux.resources.network.priorities[${i}]`;
    const v = need('net_prio', field);
    if (v === 2) throw new ResourceError(`${field}: cgroup v2 has no net_prio controller`);
    w('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, field);
  }
}
