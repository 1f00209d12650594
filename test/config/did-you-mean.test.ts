// didYouMean: the one suggestion helper behind unknown flags, config keys and option names.
import { describe, expect, it } from 'vitest';
import { didYouMean } from '../../src/config/did-you-mean.js';

describe('didYouMean', () => {
  it.each([
    ['--prot', ['--port', '--host'], '; did you mean --port?'],
    ['--exposetracebacks', ['--expose-tracebacks', '--ident'], '; did you mean --expose-tracebacks?'],
    ['max_request_body_sise', ['max_request_body_size', 'max_request_header_size'], '; did you mean max_request_body_size?'],
    // Across spellings: snake_case given to the library finds the camelCase name.
    ['max_request_body_size', ['maxRequestBodySize', 'maxRequestHeaderSize'], '; did you mean maxRequestBodySize?'],
    ['lisen', ['listen', 'host'], '; did you mean listen?'],
  ])('%s among %j: %s', (word, candidates, expected) => {
    expect(didYouMean(word, candidates)).toBe(expected);
  });
  it.each([
    ['max_body', ['max_request_body_size']],
    ['--bogus', ['--port', '--host', '--listen']],
    ['x', ['port']],
  ])('suggests nothing for %s: nothing is near', (word, candidates) => {
    expect(didYouMean(word, candidates)).toBe('');
  });
});
