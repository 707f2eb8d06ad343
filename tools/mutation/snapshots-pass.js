/**
 * Mutation runs only (jest.mutate.config.js): every snapshot assertion passes without comparing or writing,
 * so that a mutant is killed by a behavioural assertion or not at all. A snapshot fails on any change of
 * output, right or wrong, and would hide the mutants that no behavioural test notices.
 */
const pass = () => ({ pass: true, message: () => '' });
expect.extend({
  toMatchSnapshot: pass,
  toMatchInlineSnapshot: pass,
  toThrowErrorMatchingSnapshot: pass,
  toThrowErrorMatchingInlineSnapshot: pass,
});
