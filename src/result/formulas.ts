// The formula of every metric in a RunResult, as text: written into each summary.json (`formulas`) and quoted by
// the README (test/unit/readme.test.ts checks that they agree). metrics/derive.ts computes them. Data only.
export const FORMULAS = {
  ttfb_ms: 'response headers received - request sent',
  ttft_ms: 'first chunk with non-empty content or reasoning text - request sent (the role-only chunk does not count)',
  ttst_ms: 'second token time - first token time (a chunk carrying k tokens: its share, gap/k)',
  itl_ms: 'gaps between consecutive tokens; a chunk carrying k tokens (known from per-chunk usage) contributes k gaps of gap/k',
  icl_ms: 'raw gaps between consecutive content chunks',
  tpot_ms: '(E2EL - TTFT) / (output tokens - 1), for requests with more than one output token',
  e2el_ms: 'last byte received - request sent',
  generation_time_s: 'last byte received - first token (multi-round-qa.py generation_time)',
  schedule_lag_ms: 'request sent - intended send time from the schedule (= wait + sender lag + connect wait)',
  wait_ms: "ready - intended send time: the turn waited for its user's previous turn or a --max-concurrency slot (the server's or the workload's doing)",
  sender_lag_ms: 'handed to the connection pool - ready (the turn could go: due, user free, slot free): the client\'s own lateness',
  connect_wait_ms: 'request sent - handed to the connection pool: opening a connection (network, the server accepting it) and the pool search',
  ttft_from_intended_ms: 'first token - intended send time (response time: includes waiting for the previous turn)',
  e2el_from_intended_ms: 'last byte - intended send time',
  request_throughput: 'successful requests / measured duration',
  launch_rate: 'requests launched / launch window (the --time window, or less if interrupted)',
  input_throughput: 'sum of prompt tokens of successful requests / measured duration',
  output_throughput: 'sum of completion tokens of successful requests / measured duration',
  measured_duration_s: 'from the measured phase start to the last successful request end',
  cached_token_share: 'sum of cached prompt tokens / sum of prompt tokens (successful requests reporting cached tokens)',
} as const;
