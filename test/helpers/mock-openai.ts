// Test-side entry to the mock OpenAI server: re-exports plus a one-call start/stop helper.

import { MockOpenAIServer } from '../../src/mock/mock-server.js';
import type { MockKnobs, MockPerRequest } from '../../src/mock/mock-server.js';

export * from '../../src/mock/mock-server.js';

export interface StartedMock {
  url: string; // http://127.0.0.1:PORT/v1
  server: MockOpenAIServer;
  close(): Promise<void>;
}

export async function startMock(knobs?: Partial<MockKnobs>, perRequest?: MockPerRequest): Promise<StartedMock> {
  const server = new MockOpenAIServer(knobs, perRequest);
  await server.listen(0);
  return { url: server.url, server, close: () => server.close() };
}
