// The OpenAI-compatible wire format of one turn: the JSON body of a streamed /chat/completions or /completions
// request, as multi-round-qa.py sends it. No IO.
import type { Endpoint } from '../config/options.js';
import type { ChatMessage } from '../workload/conversation.js';

export interface BodyOptions {
  endpoint: Endpoint;
  model: string;
  maxTokens: number;
  continuousUsage: boolean;
  ignoreEos: boolean;
}

/** Renders a conversation for /completions (no chat template on the server side). */
export function renderCompletionPrompt(messages: readonly ChatMessage[]): string {
  let out = '';
  for (const m of messages) out += (m.role === 'user' ? 'User: ' : 'Assistant: ') + m.content + '\n\n';
  return out + 'Assistant:';
}

/** The JSON request body: streamed, greedy, with usage, as multi-round-qa.py sends it. */
export function requestBody(messages: readonly ChatMessage[], o: BodyOptions): string {
  const streamOptions: Record<string, boolean> = { include_usage: true };
  if (o.continuousUsage) streamOptions.continuous_usage_stats = true;
  const body: Record<string, unknown> = { model: o.model };
  if (o.endpoint === 'chat') body.messages = messages;
  else body.prompt = renderCompletionPrompt(messages);
  body.stream = true;
  body.stream_options = streamOptions;
  body.temperature = 0;
  body.max_tokens = o.maxTokens;
  if (o.ignoreEos) body.ignore_eos = true;
  return JSON.stringify(body);
}
