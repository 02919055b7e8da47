// OpenAI-compatible request parsing and error bodies shared by the simulated servers (mock and engine):
// what vLLM's API server accepts, and the 400s it answers with, in one place.


export interface ApiError {
  status: number;
  message: string;
  type: string;
}

export interface GenRequest {
  kind: 'chat' | 'completion';
  model: string | undefined;
  prompt: string;
  maxTokens: number | undefined;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const badRequest = (message: string): ApiError => ({ status: 400, message, type: 'BadRequestError' });

export function errorType(status: number): string {
  if (status === 400) return 'BadRequestError';
  if (status === 401) return 'AuthenticationError';
  if (status === 403) return 'PermissionDeniedError';
  if (status === 404) return 'NotFoundError';
  if (status === 429) return 'RateLimitError';
  if (status >= 500) return 'InternalServerError';
  return 'APIError';
}

function chatPrompt(messages: unknown): string | ApiError {
  if (messages === undefined) return badRequest('messages: Field required');
  if (!Array.isArray(messages) || messages.length === 0) {
    return badRequest('messages: must be a non-empty list of messages');
  }
  const parts: string[] = [];
  for (const [i, m] of messages.entries()) {
    if (!isRecord(m) || typeof m.role !== 'string') {
      return badRequest(`messages[${i}]: must be an object with a string 'role'`);
    }
    const c = m.content;
    if (typeof c === 'string') parts.push(c);
    else if (c === null || c === undefined) parts.push('');
    else if (Array.isArray(c)) {
      const texts: string[] = [];
      for (const p of c) {
        if (!isRecord(p) || typeof p.type !== 'string') {
          return badRequest(`messages[${i}].content: parts must be objects with a 'type'`);
        }
        if (p.type === 'text') {
          if (typeof p.text !== 'string') return badRequest(`messages[${i}].content: text part needs 'text'`);
          texts.push(p.text);
        }
      }
      parts.push(texts.join('\n'));
    } else {
      return badRequest(`messages[${i}].content: must be a string, a list of parts, or null`);
    }
  }
  return parts.join('\n');
}

export function parseGenRequest(kind: GenRequest['kind'], body: unknown): GenRequest | ApiError {
  if (!isRecord(body)) return badRequest('request body must be a JSON object');
  let prompt: string | ApiError;
  if (kind === 'chat') prompt = chatPrompt(body.messages);
  else if (typeof body.prompt === 'string') prompt = body.prompt;
  else if (Array.isArray(body.prompt) && body.prompt.length === 1 && typeof body.prompt[0] === 'string') {
    prompt = body.prompt[0];
  } else prompt = badRequest('prompt: must be a string');
  if (typeof prompt !== 'string') return prompt;

  if (body.model !== undefined && body.model !== null && typeof body.model !== 'string') {
    return badRequest('model: must be a string');
  }
  // Chat accepts OpenAI's newer max_completion_tokens as vLLM does; it wins over max_tokens.
  const mt = kind === 'chat' ? (body.max_completion_tokens ?? body.max_tokens) : body.max_tokens;
  if (mt !== undefined && mt !== null) {
    if (!isInt(mt)) return badRequest(`max_tokens must be an integer, got ${JSON.stringify(mt)}.`);
    if (mt < 1) return badRequest(`max_tokens must be at least 1, got ${mt}.`);
  }
  const so = isRecord(body.stream_options) ? body.stream_options : {};
  return {
    kind,
    model: typeof body.model === 'string' ? body.model : undefined,
    prompt,
    maxTokens: isInt(mt) ? mt : undefined,
    stream: body.stream === true,
    includeUsage: so.include_usage === true,
    continuousUsage: so.continuous_usage_stats === true,
  };
}

