/**
 * An activity interceptor that holds chosen activities at a gate until the test lets them go: how
 * the red-team tests open the waits an agent can stretch (a ledger reservation, an audit write).
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** A gate an activity waits at: `entered` once it waits, `release()` lets it go. */
export interface Gate {
  readonly entered: Promise<void>;
  hold(): Promise<void>;
  release(): void;
}

export function gate(): Gate {
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const open = new Promise<void>((resolve) => (release = resolve));
  return {
    entered,
    hold: () => {
      enter();
      return open;
    },
    release: () => release(),
  };
}

/** An interceptor that holds the first `count` activities `holds` picks, the n-th at `gates[n]`. */
export function holdActivities(holds: (type: string, args: readonly unknown[]) => boolean, count = 1): { readonly interceptor: ActivityInterceptorsFactory; readonly gates: readonly Gate[] } {
  const gates = Array.from({ length: count }, gate);
  let taken = 0;
  const interceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        if (taken < count && holds(ctx.info.activityType, input.args)) await gates[taken++]!.hold();
        return next(input);
      },
    } satisfies ActivityInboundCallsInterceptor,
  });
  return { interceptor, gates };
}
