/**
 * A child server process in its own process group: started detached so a terminal Ctrl-C reaches
 * only Gatehouse (which then stops servers in order), stopped by signalling the whole group so no
 * grandchild survives, and killed outright if this Node process goes away without stopping it:
 * on a normal exit by an exit hook, and on a death no hook sees (SIGKILL, an unhandled SIGINT or
 * SIGTERM) by a small watchdog shell that SIGKILLs the group once this process is gone.
 */
import { spawn, type SpawnOptions } from 'node:child_process';

export interface ManagedProcess {
  readonly pid: number;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Lets Node exit while the process runs (the exit hook still kills it then). */
  unref(): void;
  /** The last few kilobytes of its stdout and stderr, for error messages. */
  outputTail(): string;
  /**
   * SIGTERM (or `signal`) to the group (or to the leader alone with `leaderOnly`, for servers
   * such as postgres that stop their own children), then SIGKILL to the group after `graceMs`;
   * resolves when the leader has exited and no process of its group is left (or, should one
   * outlive its SIGKILL, after `GROUP_GONE_MS`).
   */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number; leaderOnly?: boolean }): Promise<void>;
}

const live = new Set<number>();
let exitHookInstalled = false;

/** Last-resort cleanup: a synchronous SIGKILL of every group still running when Node exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
  });
}

/** How long `stop` waits for the group's last processes to die after its SIGKILL. */
const GROUP_GONE_MS = 5_000;

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A SIGKILL is delivered asynchronously: polls until no process of group `pid` is left. */
async function untilGroupGone(pid: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone (ESRCH): nothing to do.
  }
}

/**
 * Starts the watchdog of group `pgid`: it polls every second and SIGKILLs the group once `parent`
 * has died; it exits by itself as soon as the group is gone.
 */
function startWatchdog(pgid: number, parent: number): void {
  const script = `while kill -0 ${parent} 2>/dev/null && kill -0 -${pgid} 2>/dev/null; do sleep 1; done; kill -0 ${parent} 2>/dev/null || kill -KILL -${pgid} 2>/dev/null; exit 0`;
  try {
    const watchdog = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
    watchdog.on('error', () => undefined);
    watchdog.unref();
  } catch {
    // No shell: the exit hook still covers normal exits.
  }
}

/** Spawns `command` detached in a new process group, capturing the tail of its output. */
export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      keep(Buffer.from(`spawn failed: ${err.message}\n`));
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      done = true;
      if (child.pid) live.delete(child.pid);
      resolve({ code, signal });
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) {
    live.add(pid);
    startWatchdog(pid, process.pid);
  }

  return {
    pid,
    exited,
    hasExited: () => done,
    unref() {
      child.unref();
      (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
      (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    },
    outputTail: () => tail.trim(),
    async stop({ signal = 'SIGTERM', graceMs = 10_000, leaderOnly = false } = {}) {
      if (pid <= 0) return;
      if (!done) {
        if (leaderOnly) child.kill(signal);
        else killGroup(pid, signal);
      }
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // The leader is gone; make sure nothing else of its group lingers.
      killGroup(pid, 'SIGKILL');
      await untilGroupGone(pid, GROUP_GONE_MS);
      live.delete(pid);
    },
  };
}
