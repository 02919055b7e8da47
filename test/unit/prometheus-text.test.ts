// The Prometheus text parser on what real exporters serve (vLLM through prometheus_client, llama.cpp's server,
// OpenMetrics pages) and on broken input: every malformed line is skipped and counted, nothing throws. Also the
// per-name sums the scraper builds from a page (which samples count as counters, gauges, or not at all).
import { describe, expect, it } from 'vitest';
import { classifySample, parsePrometheusText, parsePromNumber, scanPrometheusText, type PromType } from '../../src/scrape/prometheus-text.js';
import { sumPage } from '../../src/scrape/scraper.js';

const MODEL = 'mistralai/Mistral-7B-Instruct-v0.2';

/** What vLLM v1 serves through prometheus_client 0.0.4 (abridged): `_created` gauges, float values, two engines. */
const VLLM_PAGE = `# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 8123.0
python_gc_objects_collected_total{generation="1"} 1532.0
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="${MODEL}"} 3.0
vllm:num_requests_running{engine="1",model_name="${MODEL}"} 2.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="${MODEL}"} 0.25
vllm:kv_cache_usage_perc{engine="1",model_name="${MODEL}"} 0.5
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="${MODEL}"} 1.2345e+06
vllm:prompt_tokens_total{engine="1",model_name="${MODEL}"} 5.0e+05
# HELP vllm:prompt_tokens_created Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_created gauge
vllm:prompt_tokens_created{engine="0",model_name="${MODEL}"} 1.7203456789e+09
vllm:prompt_tokens_created{engine="1",model_name="${MODEL}"} 1.7203456789e+09
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="${MODEL}"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.1",model_name="${MODEL}"} 4.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="${MODEL}"} 10.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="${MODEL}"} 10.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="${MODEL}"} 1.5
# HELP vllm:time_to_first_token_seconds_created Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds_created gauge
vllm:time_to_first_token_seconds_created{engine="0",model_name="${MODEL}"} 1.7203456789e+09
# HELP vllm:request_params_n Histogram of the n request parameter.
# TYPE vllm:request_params_n summary
vllm:request_params_n{model_name="${MODEL}",quantile="0.5"} 1.0
vllm:request_params_n_sum{model_name="${MODEL}"} 12.0
vllm:request_params_n_count{model_name="${MODEL}"} 12.0
`;

/** llama.cpp's llama-server --metrics (its own HELP/TYPE, no labels). */
const LLAMACPP_PAGE = `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 1024
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 0.512
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 300
# HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.
# TYPE llamacpp:kv_cache_usage_ratio gauge
llamacpp:kv_cache_usage_ratio 0.125
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 0
`;

describe('parsePrometheusText', () => {
  it('reads a vLLM page: names with colons, labels, float and exponent values, TYPE per family', () => {
    const r = parsePrometheusText(VLLM_PAGE);
    expect(r.malformed).toBe(0);
    expect(r.eof).toBe(false);
    expect(r.types['vllm:num_requests_running']).toBe('gauge');
    expect(r.types['vllm:prompt_tokens_total']).toBe('counter');
    expect(r.types['vllm:time_to_first_token_seconds']).toBe('histogram');
    expect(r.types['vllm:request_params_n']).toBe('summary');
    const running = r.samples.filter((s) => s.name === 'vllm:num_requests_running');
    expect(running).toEqual([
      { name: 'vllm:num_requests_running', labels: { engine: '0', model_name: MODEL }, value: 3 },
      { name: 'vllm:num_requests_running', labels: { engine: '1', model_name: MODEL }, value: 2 },
    ]);
    expect(r.samples.find((s) => s.name === 'vllm:prompt_tokens_total')?.value).toBe(1_234_500);
    const inf = r.samples.find((s) => s.name === 'vllm:time_to_first_token_seconds_bucket' && s.labels.le === '+Inf');
    expect(inf?.value).toBe(10);
    expect(r.samples).toHaveLength(VLLM_PAGE.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length);
  });

  it('reads llama.cpp pages (no labels)', () => {
    const r = parsePrometheusText(LLAMACPP_PAGE);
    expect(r.malformed).toBe(0);
    expect(r.samples.map((s) => [s.name, s.value])).toEqual([
      ['llamacpp:prompt_tokens_total', 1024],
      ['llamacpp:prompt_seconds_total', 0.512],
      ['llamacpp:tokens_predicted_total', 300],
      ['llamacpp:kv_cache_usage_ratio', 0.125],
      ['llamacpp:requests_processing', 2],
      ['llamacpp:requests_deferred', 0],
    ]);
    expect(r.samples[0]?.labels).toEqual({});
  });

  it('unescapes label values: \\" \\\\ \\n, and keeps braces, commas and # inside quotes', () => {
    const text = [
      String.raw`m{path="C:\\dir\\file",msg="say \"hi\"\nbye"} 1`,
      String.raw`m{weird="a},b=\"c\" # not a comment",x="y"} 2`,
      String.raw`m{odd="keep \t as is"} 3`,
      'm{ a = "spaced" , b="trailing comma", } 4',
      'm{} 5',
      'm {a="space before brace"} 6',
    ].join('\n');
    const r = parsePrometheusText(text);
    expect(r.malformed).toBe(0);
    expect(r.samples.map((s) => s.labels)).toEqual([
      { path: 'C:\\dir\\file', msg: 'say "hi"\nbye' },
      { weird: 'a},b="c" # not a comment', x: 'y' },
      { odd: 'keep \\t as is' },
      { a: 'spaced', b: 'trailing comma' },
      {},
      { a: 'space before brace' },
    ]);
    expect(r.samples.map((s) => s.value)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps a __proto__ label as an own property', () => {
    const r = parsePrometheusText('m{__proto__="x"} 1\n');
    const labels = r.samples[0]?.labels as Record<string, string>;
    expect(Object.prototype.hasOwnProperty.call(labels, '__proto__')).toBe(true);
    expect(labels['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it('reads NaN, +Inf, -Inf, signs and exponents, and optional timestamps', () => {
    const r = parsePrometheusText(['a NaN', 'b +Inf', 'c -Inf', 'd -1.5e-3', 'e +7', 'f .5', 'g 1 1712345678901', 'h 2 -1', 'i Inf', 'j nan'].join('\n'));
    expect(r.malformed).toBe(0);
    const v = Object.fromEntries(r.samples.map((s) => [s.name, s.value]));
    expect(v.a).toBeNaN();
    expect(v.b).toBe(Infinity);
    expect(v.c).toBe(-Infinity);
    expect(v.d).toBe(-0.0015);
    expect(v.e).toBe(7);
    expect(v.f).toBe(0.5);
    expect(v.i).toBe(Infinity);
    expect(v.j).toBeNaN();
    expect(r.samples.find((s) => s.name === 'g')?.timestamp).toBe(1712345678901);
    expect(r.samples.find((s) => s.name === 'h')?.timestamp).toBe(-1);
    expect(r.samples.find((s) => s.name === 'a')).not.toHaveProperty('timestamp');
  });

  it('accepts CRLF, blank lines, leading blanks and tabs between tokens', () => {
    const text = '# TYPE x counter\r\n\r\n  x_total{a="1"}\t 3\t\r\n\t\ny 4 \r\n';
    const r = parsePrometheusText(text);
    expect(r.malformed).toBe(0);
    expect(r.samples.map((s) => [s.name, s.value, s.labels])).toEqual([
      ['x_total', 3, { a: '1' }],
      ['y', 4, {}],
    ]);
    expect(r.types.x).toBe('counter');
  });

  it('skips and counts malformed lines without losing the good ones, and never throws', () => {
    const text = [
      'good_one 1',
      'no_value',
      'bad_value{a="b"} twelve',
      'unterminated{a="b} 1',
      'missing_eq{a"b"} 1',
      'no_close{a="b" 1',
      '9starts_with_digit 1',
      'two_values 1 2 3',
      'bad_ts 1 soon',
      '<html><body>oops</body></html>',
      '# TYPE weird flavour',
      '# TYPE',
      'good_two{x="y"} 2',
      'bad{a="b"c="d"} 1',
      '{} 1',
    ].join('\n');
    const r = parsePrometheusText(text);
    expect(r.samples.map((s) => s.name)).toEqual(['good_one', 'good_two']);
    expect(r.malformed).toBe(13);
    expect(r.malformedExamples).toHaveLength(5);
    expect(r.malformedExamples[0]).toMatchObject({ line: 2, text: 'no_value' });
    expect(r.malformedExamples[1]?.reason).toMatch(/not a number/);
  });

  it('survives arbitrary input', () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const alphabet = 'ab:_{}="\\,# \n\r\t01.eE+-InfNa';
    for (let k = 0; k < 300; k++) {
      let s = '';
      const n = Math.floor(rand() * 200);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)];
      expect(() => parsePrometheusText(s)).not.toThrow();
    }
    expect(parsePrometheusText('').samples).toEqual([]);
  });

  it('reads OpenMetrics: family TYPEs, _total/_created samples, exemplars, float timestamps, # EOF', () => {
    const text = [
      '# TYPE lmcache:num_hit_tokens counter',
      '# HELP lmcache:num_hit_tokens Total number of tokens hit in lmcache',
      'lmcache:num_hit_tokens_total{model_name="m",worker_id="0"} 42.0',
      'lmcache:num_hit_tokens_created{model_name="m",worker_id="0"} 1.7e9',
      '# TYPE rpc_seconds histogram',
      'rpc_seconds_bucket{le="0.5"} 3 # {trace_id="abc"} 0.42 1712345678.123',
      'rpc_seconds_bucket{le="+Inf"} 4',
      'rpc_seconds_sum 1.2 1712345678.5',
      'rpc_seconds_count 4',
      '# EOF',
      'after_eof 1',
    ].join('\n');
    const r = parsePrometheusText(text);
    expect(r.eof).toBe(true);
    expect(r.malformed).toBe(0);
    expect(r.types['lmcache:num_hit_tokens']).toBe('counter');
    expect(r.samples.map((s) => s.name)).not.toContain('after_eof');
    expect(r.samples.find((s) => s.name === 'rpc_seconds_bucket')?.value).toBe(3);
    expect(r.samples.find((s) => s.name === 'rpc_seconds_sum')?.timestamp).toBe(1712345678.5);
  });

  it('reads Prometheus 3 quoted UTF-8 names', () => {
    const r = parsePrometheusText('{"my.metric", "le.label"="1", b="2"} 5\n{"other.metric"} 6\n');
    expect(r.malformed).toBe(0);
    expect(r.samples).toEqual([
      { name: 'my.metric', labels: { 'le.label': '1', b: '2' }, value: 5 },
      { name: 'other.metric', labels: {}, value: 6 },
    ]);
  });

  it('scan without labels checks the same syntax and counts the same samples', () => {
    const names: string[] = [];
    const s = scanPrometheusText(VLLM_PAGE + 'broken{a="b} 1\n', (name, _v, labels) => {
      names.push(name);
      expect(labels).toBeUndefined();
    }, { labels: false });
    expect(s.samples).toBe(names.length);
    expect(s.malformed).toBe(1);
    expect(s.samples).toBe(parsePrometheusText(VLLM_PAGE).samples.length);
  });

  it('parsePromNumber rejects what Go would not write', () => {
    expect(parsePromNumber('')).toBeUndefined();
    expect(parsePromNumber('0x10')).toBeUndefined();
    expect(parsePromNumber('1e')).toBeUndefined();
    expect(parsePromNumber('--1')).toBeUndefined();
    expect(parsePromNumber('1.')).toBe(1);
    expect(parsePromNumber('-INF')).toBe(-Infinity);
  });
});

describe('classifySample and sumPage', () => {
  const types = new Map<string, PromType>([
    ['c_total', 'counter'],
    ['g', 'gauge'],
    ['h', 'histogram'],
    ['s', 'summary'],
    ['om', 'counter'],
    ['u', 'untyped'],
    ['c_created', 'gauge'],
  ]);

  it('counters, gauges, histogram parts, and what is skipped', () => {
    expect(classifySample('c_total', types)).toBe('counter');
    expect(classifySample('c_created', types)).toBe('skip');
    expect(classifySample('g', types)).toBe('gauge');
    expect(classifySample('h_bucket', types)).toBe('skip');
    expect(classifySample('h_sum', types)).toBe('counter');
    expect(classifySample('h_count', types)).toBe('counter');
    expect(classifySample('h_created', types)).toBe('skip');
    expect(classifySample('s', types)).toBe('skip');
    expect(classifySample('s_sum', types)).toBe('counter');
    expect(classifySample('om_total', types)).toBe('counter');
    expect(classifySample('om_created', types)).toBe('skip');
    expect(classifySample('u', types)).toBe('gauge');
    expect(classifySample('untyped_total', types)).toBe('counter');
    expect(classifySample('untyped_thing', types)).toBe('gauge');
    expect(classifySample('untyped_bucket', types)).toBe('skip');
  });

  it('sums each name over its label sets and leaves out buckets, quantiles, _created and non-finite values', () => {
    const p = sumPage(VLLM_PAGE + 'vllm:gpu_cache_usage_perc NaN\n');
    expect(p.malformed).toBe(0);
    expect(Object.fromEntries(p.values)).toEqual({
      python_gc_objects_collected_total: 9655,
      'vllm:num_requests_running': 5,
      'vllm:kv_cache_usage_perc': 0.75,
      'vllm:prompt_tokens_total': 1_734_500,
      'vllm:time_to_first_token_seconds_count': 10,
      'vllm:time_to_first_token_seconds_sum': 1.5,
      'vllm:request_params_n_sum': 12,
      'vllm:request_params_n_count': 12,
    });
    expect(p.kinds.get('vllm:prompt_tokens_total')).toBe('counter');
    expect(p.kinds.get('vllm:num_requests_running')).toBe('gauge');
    expect(p.histogramParts.has('vllm:time_to_first_token_seconds_sum')).toBe(true);
    expect(p.histogramParts.has('vllm:prompt_tokens_total')).toBe(false);
  });
});
