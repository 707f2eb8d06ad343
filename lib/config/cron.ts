/** The cron schedule syntax the Kubernetes CronJob controller accepts, as `gc.schedule` is checked against it. */


/** The five fields of a standard cron schedule, as the Kubernetes CronJob controller parses them. */
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], question: true },
] as const;

/**
 * What is wrong with a cron schedule, or `undefined`: five fields (minute hour day-of-month month day-of-week), each a
 * list of `*`, values, ranges `a-b` and steps `/n` within the field's range (month and weekday names allowed), `?` in
 * the day fields — the standard syntax the CronJob controller accepts. No `@daily`-style macros and no `TZ=` prefix:
 * one spelling, which the examples of docs/configuration.md use.
 */
export function cronScheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 || schedule.trim() === '') {
    return "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'";
  }
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const range = `${f.min}-${f.max}`;
    const value = (v: string): number | undefined => {
      if (/^\d+$/.test(v)) return Number(v);
      const names: readonly string[] = 'names' in f ? f.names : [];
      const n = names.indexOf(v.toUpperCase());
      return n < 0 ? undefined : n + f.min;
    };
    for (const part of fields[i].split(',')) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
      const fail = `the ${f.name} field '${fields[i]}' is not valid: expected *, a value, a range a-b or a step */n within ${range}`;
      if (!m) return fail;
      if (m[2] !== undefined && Number(m[2]) < 1) return `the ${f.name} field '${fields[i]}' has a step of 0: expected a step of at least 1`;
      if (m[1] === '*' || ('question' in f && m[1] === '?' && m[2] === undefined)) continue;
      const bounds = m[1].split('-');
      if (bounds.length > 2) return fail;
      const nums = bounds.map(value);
      if (nums.some((n) => n === undefined)) return fail;
      if (nums.some((n) => (n as number) < f.min || (n as number) > f.max)) {
        return `the ${f.name} field '${fields[i]}' is out of range: expected values within ${range}`;
      }
      if (nums.length === 2 && (nums[0] as number) > (nums[1] as number)) {
        return `the ${f.name} field '${fields[i]}' has a range that runs backwards: expected a-b with a ≤ b`;
      }
    }
  }
  return undefined;
}
