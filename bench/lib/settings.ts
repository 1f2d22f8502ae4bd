// What every benchmark of the whole stack pins (bench/run.ts, bench/transactions.ts, bench/intake.ts),
// and how they read their options.

/** The command line's `--name=value` and `--flag` options; anything else is refused, naming `usage`. */
export function benchOptions(usage: string): Record<string, string> {
  return Object.fromEntries(
    process.argv.slice(2).map((a) => {
      const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
      if (!m) throw new Error(`unexpected argument "${a}" (options are ${usage})`);
      return [m[1]!, m[2] ?? 'true'];
    }),
  );
}

/**
 * The dev server's settings the harness pins. `paced` is start-dev as shipped: its history
 * service reads transfer tasks at most `history.transferProcessorMaxPollRPS` (20) times a second,
 * so each hand-off between workflow and activity waits for a ~50 ms tick. `raised` lifts that
 * limit, as a multi-shard cluster's many queue readers effectively do. Both are reported.
 */
export const SETTINGS: Record<string, Record<string, number>> = {
  paced: {},
  raised: { 'history.transferProcessorMaxPollRPS': 1000, 'history.timerProcessorMaxPollRPS': 1000 },
  // The production shape (dev/temporal-cluster.ts): four services as processes on PostgreSQL,
  // four history shards, mutual TLS; the server's own defaults.
  cluster: {},
};

/**
 * tongban's processes as the benchmarks run them: production pacing where it matters to a happy
 * path: no status poll before the callbacks (STATUS_POLL_AFTER_MS), the working calendar instead
 * of one-minute days, no province rate limit in the way, info logs off.
 */
export const STACK_ENV: Record<string, string> = { PROVINCE_RATE_LIMIT: '1000', STATUS_POLL_AFTER_MS: String(10 * 60_000), WORKING_DAY_MS: '', LOG_LEVEL: 'warn' };

/** The simulator's review and SMS delivery delays in the benchmarks. */
export const SIMULATOR_ENV: Record<string, string> = { SIMULATOR_REVIEW_DELAY_MS: '100', SIMULATOR_SMS_DELIVERY_DELAY_MS: '100' };
