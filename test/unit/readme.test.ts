// The README is part of the contract: every metric formula and every option must be documented exactly
// as the code defines them, so the two can never drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUN_OPTIONS } from '../../src/config/options.js';
import { FORMULAS } from '../../src/metrics/derive.js';
import { SLO_FORMULAS } from '../../src/metrics/slo.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('opens with the two set-up commands', () => {
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)?.[1]?.trim().split('\n');
    expect(firstBlock).toEqual(['npm install && npx pd-bench', 'npm test']);
  });

  it.each(Object.entries({ ...FORMULAS, ...SLO_FORMULAS }))('documents %s with the formula used in code', (name, formula) => {
    expect(readme).toContain(`| \`${name}\` | ${formula} |`);
  });

  it.each(RUN_OPTIONS.map((o) => [o.name, o] as const))('documents --%s', (name, o) => {
    const flag = o.type === 'bool' && o.default === true ? `--no-${name}` : `--${name}`;
    expect(readme).toContain(`| \`${flag}`);
  });
});
