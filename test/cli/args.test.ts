/**
 * The flag parser both commands share (lib/cli.ts): what it accepts, and the exact one-line message of each
 * usage error. The commands' own tests (test/cli/cli.test.ts, test/tools/terraform/import.test.ts) show these lines reach the user.
 */
import { parseFlags, UsageError } from '../../lib/cli';

const SPEC = { config: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function usageError(argv: readonly string[]): string {
  try {
    parseFlags(argv, SPEC);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).name).toBe('UsageError');
    return (e as Error).message;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
}

describe('accepted', () => {
  test('string flags with separate or inline values; absent flags are absent', () => {
    expect(parseFlags(['--config', 'a.yaml', '--out=b'], SPEC)).toEqual({ config: 'a.yaml', out: 'b' });
    expect(parseFlags([], SPEC)).toEqual({});
  });

  test('a boolean flag, by its long or short name', () => {
    expect(parseFlags(['--help'], SPEC)).toEqual({ help: true });
    expect(parseFlags(['-h'], SPEC)).toEqual({ help: true });
  });

  test("a lone '-' is a value (stdin), and so is an inline value starting with '-'", () => {
    expect(parseFlags(['--config', '-'], SPEC)).toEqual({ config: '-' });
    expect(parseFlags(['--out=-dir'], SPEC)).toEqual({ out: '-dir' });
  });
});

describe('refused, each with its line', () => {
  test.each([
    [['--force'], "unknown option '--force'"],
    [['--force=yes'], "unknown option '--force'"],
    [['-x'], "unknown option '-x'"],
    // Names every object has are not flags either.
    [['--constructor', 'x'], "unknown option '--constructor'"],
    [['--toString'], "unknown option '--toString'"],
    [['config.yaml'], "unexpected argument 'config.yaml'"],
    [['--config', 'a', 'b'], "unexpected argument 'b'"],
    [['--', 'x'], "unexpected argument '--'"],
    [['--config'], '--config needs a value'],
    [['--config='], '--config needs a value'],
    [['--config', '--out', 'b'], '--config needs a value'],
    [['--config', '-h'], '--config needs a value'],
    [['--config', 'a', '--config', 'b'], '--config given twice'],
    [['--config=a', '--config', 'a'], '--config given twice'],
    [['--help', '-h'], '--help given twice'],
    [['--help=yes'], '--help takes no value'],
  ])('%j', (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  test('a long argument or option is echoed as its first 120 characters and its length', () => {
    const long = 'x'.repeat(5000);
    expect(usageError([long])).toBe(`unexpected argument '${'x'.repeat(120)}… (5000 characters)'`);
    expect(usageError([`--${long}`])).toBe(`unknown option '--${'x'.repeat(118)}… (5002 characters)'`);
  });
});
