/**
 * CPU time and memory of a process tree, read from /proc (Linux). Runs on Deno, Bun and Node.
 *
 * CPU time is user+system of the process and all its live descendants (threads are included in a
 * process's own counters), in seconds; RSS is the sum of VmRSS, in bytes.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
        if (text) { for (const c of text.split(/\s+/)) out.push(Number(c)); }
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return out;
}

/** The process and its live descendants. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...children(all[i]));
  return all;
}

/** user+system CPU seconds of one process (all its threads), 0 if it is gone; `userOnly`: user. */
export function processCpu(pid: number, userOnly = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + (userOnly ? 0 : Number(fields[12]))) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * user+system CPU seconds of the tree rooted at `pid`; `userOnly`: user mode alone, the server's own
 * code and its runtime without the kernel's (on loopback, the kernel's share of a send also carries
 * the receiver's side, and swings between runs by far more than a server's own code differs).
 */
export function treeCpu(pid: number, userOnly = false): number {
  let total = 0;
  for (const p of processTree(pid)) total += processCpu(p, userOnly);
  return total;
}

/** Resident set size in bytes of the tree rooted at `pid`. */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) total += Number(m[1]) * 1024;
    } catch { /* gone */ }
  }
  return total;
}

/**
 * CPU seconds all processes of the machine have used in user and system mode (irq and softirq time
 * is left out: loopback traffic puts much of a benchmark's own network work there).
 */
export function systemBusy(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[7]) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
