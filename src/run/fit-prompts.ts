// --tokenizer server: before any request is timed, fits the shared system text and the context of every user the
// run can start (the pre-aged ones and every joiner within --time) to exact token lengths under the target's own
// tokenizer (its /tokenize), so fitting never shows up as schedule lag.
import { renderCompletionPrompt } from '../client/openai-request.js';
import { ServerTokenizer } from '../client/server-tokenizer.js';
import { userAt, type MultiRoundParams, type MultiRoundPlan } from '../schedule/multi-round.js';
import { firstTurnContent, type ChatMessage } from '../workload/conversation.js';
import { ExactPrompts, type PromptTokenizer } from '../workload/exact-prompts.js';
import { tlsSettings } from '../util/tls.js';
import type { TextFactory } from '../workload/text.js';
import type { RunOptions } from './options.js';

export async function fitExactPrompts(options: RunOptions, text: TextFactory, plan: MultiRoundPlan, params: MultiRoundParams, signal: AbortSignal | undefined): Promise<ExactPrompts> {
  const { config } = options;
  // A tokenizer made here holds its own connections (its own TLS settings): closed when fitting is done.
  const own = options.tokenizer ? undefined : await ServerTokenizer.connect({ baseUrl: config.baseUrl, model: config.model, apiKey: config.apiKey, signal, tls: tlsSettings(config) });
  const tok: PromptTokenizer = options.tokenizer ?? (own as ServerTokenizer);
  try {
    const exact = await ExactPrompts.create(tok, text, config.sharedSystemPrompt, config.userHistoryPrompt);
    const ids: number[] = [];
    for (let k = plan.firstJoinIndex; ; k++) {
      const u = userAt(plan, params, k);
      if (!u) continue;
      if (k >= 0 && u.joinAt >= config.time) break;
      ids.push(u.userId);
    }
    const firstMessage = (id: number, context: string): ChatMessage[] => [{ role: 'user', content: firstTurnContent(exact.system.text, context, text.question(id, 1)) }];
    const count = (m: ChatMessage[]): Promise<number> => (config.endpoint === 'chat' ? tok.countChat(m) : tok.countCompletion(renderCompletionPrompt(m)));
    await exact.prepare(ids, firstMessage, count);
    return exact;
  } finally {
    await own?.close();
  }
}
