// Library entry: the measurement core without the CLI. `runBenchmark` returns a RunResult and writes nothing.
export { runBenchmark, type RunOptions, type RunProgress } from './run.js';
export { TargetClient, type ClientOptions, type TurnRequest, type TurnSender } from './client/target-client.js';
export { SseParser } from './client/sse-parser.js';
export { OpenAIStreamState } from './client/openai-stream.js';
export { preflight } from './client/preflight.js';
export { DEFAULT_CONFIG, RUN_OPTIONS, type RunConfig } from './config/options.js';
export { resolveConfig, redactConfig } from './config/resolve.js';
export { loadScenario, listBuiltinScenarios } from './config/scenario.js';
export { planMultiRound, userAt, dueAt } from './schedule/multi-round.js';
export { Conversation, requestBody } from './workload/conversation.js';
export { TextFactory } from './workload/text.js';
export { estimateTokens } from './workload/tokens.js';
export { derive, FORMULAS } from './metrics/derive.js';
export { LatencyStat } from './metrics/histogram.js';
export { RunRecorder } from './metrics/recorder.js';
export { ConfigError, TargetError, PdBenchError, ExitCode } from './errors.js';
export type { RequestRecord, ErrorClass, Outcome } from './result/record.js';
export type { RunResult, MetricBlock, MetricName } from './result/schema.js';
