import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Where the CPU goes during a part of the bench, from Linux's /proc: this process's main thread
 * (the runtime's gateways, the `@connections` emulator, the handlers run in it), its other
 * threads (the Lambda worker threads, V8's garbage collector and libuv's pool), and each child
 * process (DynamoDB Local's JVM, the crowd of sockets). On a machine without /proc there is none.
 */
export interface CpuSnapshot {
  threads: Map<string, number>;
  children: Map<string, { name: string; ticks: number }>;
}

/** CPU seconds spent between two snapshots, by where. */
export interface CpuSpent {
  mainThread: number;
  otherThreads: number;
  /** By the child process's command (`java` is DynamoDB Local, `node` the crowd). */
  children: Record<string, number>;
}

let ticksPerSecond: number | undefined;

/** utime + stime, in clock ticks, of a /proc stat line; the command name sits in parentheses and may hold spaces. */
function stat(path: string): { name: string; ppid: number; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  return { name: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

export function cpuSnapshot(): CpuSnapshot | undefined {
  if (!existsSync(`/proc/${process.pid}/task`)) return undefined;
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const threads = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${process.pid}/task`)) {
    const s = stat(`/proc/${process.pid}/task/${tid}/stat`);
    if (s) threads.set(tid, s.ticks);
  }
  const children = new Map<string, { name: string; ticks: number }>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const s = stat(`/proc/${pid}/stat`);
    if (s && s.ppid === process.pid) children.set(pid, { name: s.name, ticks: s.ticks });
  }
  return { threads, children };
}

export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): CpuSpent {
  const seconds = (ticks: number) => ticks / ticksPerSecond!;
  let mainThread = 0;
  let otherThreads = 0;
  for (const [tid, ticks] of after.threads) {
    const spent = seconds(ticks - (before.threads.get(tid) ?? 0));
    if (tid === String(process.pid)) mainThread += spent;
    else otherThreads += spent;
  }
  const children: Record<string, number> = Object.create(null);
  for (const [pid, { name, ticks }] of after.children) children[name] = (children[name] ?? 0) + seconds(ticks - (before.children.get(pid)?.ticks ?? 0));
  return { mainThread, otherThreads, children };
}
