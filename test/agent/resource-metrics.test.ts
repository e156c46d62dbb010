// The agent's resource metrics: working set and CPU read from cgroup files (v1 and v2 layouts, in a temp
// dir), the node's figures from /proc text, the /metrics/resource exposition as kubelet writes it, and a
// real cgroup (root only): a busy process inside a container cgroup made by HostCgroups under a test
// prefix shows CPU time and memory; the cgroups are removed afterwards.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, rmdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUsage, nodeUsage, workingSet } from '../../node/agent/containers/stats.js';
import { HostCgroups } from '../../node/agent/containers/cgroups.js';
import { resourceMetricsText, summaryOf } from '../../node/agent/server/resource-metrics.js';

t.test('working set and usage from cgroup files', async (t) => {
  t.equal(workingSet(1000, 'total_inactive_file 300\n'), 700);
  t.equal(workingSet(1000, 'inactive_file 1200\n'), 0, 'floored at 0');
  t.equal(workingSet(1000, undefined), 1000);
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-stats-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const d = (n: string) => {
    mkdirSync(join(dir, n), { recursive: true });
    return join(dir, n);
  };
  writeFileSync(join(d('cpuacct'), 'cpuacct.usage'), '123456789\n');
  writeFileSync(join(d('memory'), 'memory.usage_in_bytes'), '4096000\n');
  writeFileSync(join(dir, 'memory', 'memory.stat'), 'cache 100\ntotal_inactive_file 96000\n');
  t.same(readUsage(1, [{ ctl: 'memory', dir: join(dir, 'memory') }, { ctl: 'cpu', dir: d('cpu') }, { ctl: 'cpuacct', dir: join(dir, 'cpuacct') }]), { memoryWorkingSetBytes: 4_000_000, cpuNs: 123456789 });
  writeFileSync(join(d('v2'), 'cpu.stat'), 'usage_usec 2500\nuser_usec 2000\n');
  writeFileSync(join(dir, 'v2', 'memory.current'), '8192\n');
  writeFileSync(join(dir, 'v2', 'memory.stat'), 'anon 4096\ninactive_file 4096\n');
  t.same(readUsage(2, [{ ctl: 'unified', dir: join(dir, 'v2') }]), { cpuNs: 2_500_000, memoryWorkingSetBytes: 4096 });
  t.equal(readUsage(1, [{ ctl: 'memory', dir: join(dir, 'none') }]), undefined, 'a missing cgroup has no usage');
  const n = nodeUsage('cpu  100 10 50 1000 20 5 5 0 0 0\ncpu0 1 1 1 1\n', 'MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\n');
  t.same(n, { cpuNs: 1_700_000_000, memoryWorkingSetBytes: 600 * 1024 }, 'busy = all but idle and iowait, at USER_HZ 100');
});

t.test('/metrics/resource text', async (t) => {
  const text = resourceMetricsText({
    containers: () => [
      { namespace: 'default', pod: 'web', container: 'app', usage: { cpuNs: 1_500_000_000, memoryWorkingSetBytes: 1024 }, startTime: 1_700_000_000_000 },
      { namespace: 'default', pod: 'web', container: 'side', usage: { cpuNs: 500_000_000, memoryWorkingSetBytes: 2048 } },
    ],
    node: () => ({ cpuNs: 10_000_000_000, memoryWorkingSetBytes: 4096 }),
  }, 1234);
  t.match(text, /^# HELP container_cpu_usage_seconds_total \[STABLE\] Cumulative cpu time consumed by the container in core-seconds\n# TYPE container_cpu_usage_seconds_total counter\n/m);
  t.match(text, /^container_cpu_usage_seconds_total\{container="app",namespace="default",pod="web"\} 1\.5 1234$/m);
  t.match(text, /^container_memory_working_set_bytes\{container="side",namespace="default",pod="web"\} 2048 1234$/m);
  t.match(text, /^container_start_time_seconds\{container="app",namespace="default",pod="web"\} 1700000000 1234$/m);
  t.notMatch(text, /container_start_time_seconds\{container="side"/, 'no sample without a value');
  t.match(text, /^pod_cpu_usage_seconds_total\{namespace="default",pod="web"\} 2 1234$/m, 'pod = sum of its containers');
  t.match(text, /^pod_memory_working_set_bytes\{namespace="default",pod="web"\} 3072 1234$/m);
  t.match(text, /^node_cpu_usage_seconds_total 10 1234$/m);
  t.match(text, /^node_memory_working_set_bytes 4096 1234$/m);
  t.match(text, /^resource_scrape_error 0$/m);
});

t.test('/stats/summary', async (t) => {
  const sum = summaryOf({
    nodeName: 'n1',
    containers: () => [{ namespace: 'default', pod: 'web', uid: 'u1', container: 'app', usage: { cpuNs: 7, memoryWorkingSetBytes: 9 }, startTime: 0 }],
    node: () => ({ cpuNs: 100 }),
  }, 0) as any;
  const time = '1970-01-01T00:00:00.000Z';
  t.same(sum.node, { nodeName: 'n1', cpu: { time, usageCoreNanoSeconds: 100 }, memory: undefined });
  t.same(sum.pods, [{ podRef: { name: 'web', namespace: 'default', uid: 'u1' }, containers: [{ name: 'app', cpu: { time, usageCoreNanoSeconds: 7 }, memory: { time, workingSetBytes: 9 } }], cpu: { time, usageCoreNanoSeconds: 7 }, memory: { time, workingSetBytes: 9 } }]);
});

const skip = process.getuid?.() !== 0 ? 'needs root (cgroups)' : !existsSync('/sys/fs/cgroup/cpuacct') && !existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'no cpuacct or unified cgroup hierarchy' : false;
t.test('a busy process in a real container cgroup', { skip }, async (t) => {
  const name = `shoalt-rm-${process.pid}`;
  t.ok(!existsSync(join('/sys/fs/cgroup', 'memory', name)), 'fresh prefix');
  const cg = new HostCgroups('/sys/fs/cgroup', name);
  const uid = 'aaaa-bbbb';
  t.teardown(() => {
    cg.killContainer(uid, 'c');
    for (let i = 0; i < 20 && cg.removePod(uid).length; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    for (const h of ['memory', 'cpu', 'cpuacct', '']) {
      try {
        rmdirSync(join('/sys/fs/cgroup', h, name));
      } catch {
        /* gone or never made */
      }
    }
  });
  const procs = cg.setup(uid, 'c', {});
  const join_ = procs.map((p) => `echo $$ > ${p}`).join('; ');
  // joins its cgroups, then burns CPU for a bounded 400 ms (and holds some memory)
  const child = spawn('sh', ['-c', `${join_}; exec ${process.execPath} -e "const b=Buffer.alloc(8<<20,1);const e=Date.now()+400;while(Date.now()<e){};console.log(b.length)"`], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  const u = cg.usage(uid, 'c');
  t.ok(u?.cpuNs && u.cpuNs > 200_000_000, `cpu ${u?.cpuNs} ns ≥ 0.2 s of a 0.4 s busy loop`);
  t.ok(u?.memoryWorkingSetBytes !== undefined, `memory working set read (${u?.memoryWorkingSetBytes} bytes after exit)`);
});
