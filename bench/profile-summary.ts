/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by area (Node's
 * http, our library, Node-RED…), and total (inclusive) time of the functions that matter.
 *   tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byArea: Array<{ area: string; ms: number; share: number }>;
  bySelf: Array<{ fn: string; ms: number; share: number }>;
  byTotal: Array<{ fn: string; ms: number; share: number }>;
}

export function areaOf(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (native, not JS)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  // Our code compiled by tsc for `npm run bench` (see bench/paths.ts).
  const compiled = url.indexOf('/node_modules/.cache/plex-butler-bench/');
  if (compiled >= 0) {
    const inside = url.slice(compiled + '/node_modules/.cache/plex-butler-bench/'.length);
    return areaOf(`file:///repository/${inside}`, functionName);
  }
  if (url.includes('/node_modules/@node-red/') || url.includes('/node_modules/node-red'))
    return 'node-red runtime';
  if (url.includes('/node_modules/')) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    return `dep: ${match?.[1] ?? url}`;
  }
  if (url.includes('/lib/')) return 'our lib/';
  if (url.includes('/nodes/')) return 'our nodes/';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url === 'node:http')
    return 'node: http';
  if (url.startsWith('node:internal/streams') || url.startsWith('node:stream'))
    return 'node: streams';
  if (url.startsWith('node:net') || url.startsWith('node:internal/net')) return 'node: net';
  if (url.startsWith('node:internal/event_target') || url.startsWith('node:internal/abort'))
    return 'node: AbortController/EventTarget';
  if (url.startsWith('node:events') || url.startsWith('node:internal/events'))
    return 'node: EventEmitter';
  if (url.startsWith('node:internal/timers') || url.startsWith('node:timers'))
    return 'node: timers';
  if (url.startsWith('node:internal/url') || url.startsWith('node:url')) return 'node: URL';
  if (url.startsWith('node:internal/process/task_queues')) return 'node: microtasks/nextTick';
  if (url.startsWith('node:')) return `node: ${url.slice(5).replace(/^internal\//, '')}`;
  return url;
}

function short(url: string): string {
  const compiled = url.indexOf('/node_modules/.cache/plex-butler-bench/');
  if (compiled >= 0) return url.slice(compiled + '/node_modules/.cache/plex-butler-bench/'.length);
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const main = url.indexOf('/work/main/');
  if (main >= 0) return url.slice(main + 11);
  return url.replace(/^file:\/\//, '');
}

export function summarise(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
  }
  const key = (node: ProfileNode): string =>
    `${node.callFrame.functionName || '(anonymous)'} ${short(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const a = areaOf(node.callFrame.url, node.callFrame.functionName);
    if (a === 'idle') idleUs += us;
    area.set(a, (area.get(a) ?? 0) + us);
    self.set(key(node), (self.get(key(node)) ?? 0) + us);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const k = key(n);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const rows = (map: Map<string, number>, label: 'area' | 'fn', skipIdle: boolean) =>
    [...map.entries()]
      .filter(([k]) => !(skipIdle && (k === 'idle' || k.startsWith('(idle)'))))
      .sort((a, b) => b[1] - a[1])
      .map(([k, us]) => ({ [label]: k, ms: us / 1000, share: us / busyUs }));
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    byArea: rows(area, 'area', true) as ProfileSummary['byArea'],
    bySelf: (rows(self, 'fn', true) as ProfileSummary['bySelf']).slice(0, top),
    byTotal: (rows(inclusive, 'fn', true) as ProfileSummary['byTotal'])
      .filter((row) => !/^\(root\)|^\(program\)/.test(row.fn))
      .slice(0, top),
  };
}

export function printSummary(summary: ProfileSummary): void {
  const pct = (share: number): string => `${(share * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `busy ${(summary.totalMs - summary.idleMs).toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms sampled (shares are of busy time)`,
  );
  console.log('\nself time by area');
  for (const row of summary.byArea) console.log(`  ${pct(row.share)}  ${row.area}`);
  console.log('\nself time by function');
  for (const row of summary.bySelf) console.log(`  ${pct(row.share)}  ${row.fn}`);
  console.log('\ntotal time (inclusive) by function');
  for (const row of summary.byTotal) console.log(`  ${pct(row.share)}  ${row.fn}`);
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  printSummary(summarise(profile, Number(process.argv[3] ?? 30)));
}
