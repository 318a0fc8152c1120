import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, issuePath } from '../../shared/util/describe-issues.js';

const schema = z.strictObject({ routes: z.array(z.strictObject({ queues: z.array(z.string().regex(/^[a-z]+$/, 'must be lower-case letters')) })) });
const issuesOf = (value: unknown) => {
  const parsed = schema.safeParse(value);
  if (parsed.success) throw new Error('expected the value to be refused');
  return parsed.error.issues;
};

describe('issuePath', () => {
  it('writes a path as JavaScript would: dots between names, brackets around indexes', () => {
    expect(issuePath(['routes', 1, 'queues', 0])).toBe('routes[1].queues[0]');
    expect(issuePath([0, 'a'])).toBe('[0].a');
    expect(issuePath([])).toBe('');
  });
});

describe('describeIssues', () => {
  it('names each issue by its path, and the whole document by the given word', () => {
    expect(describeIssues(issuesOf({ routes: [{ queues: ['ok'] }, { queues: ['ok', 'Not_OK'] }] }), { whole: '(file)' })).toEqual(['routes[1].queues[1]: must be lower-case letters']);
    expect(describeIssues(issuesOf({ routes: [], extra: 1 }), { whole: '(file)' })).toEqual(['(file): Unrecognized key: "extra"']);
    expect(describeIssues(issuesOf([1]), { whole: '(body)' })).toEqual(['(body): Invalid input: expected object, received array']);
  });

  it('puts the prefix before each path', () => {
    expect(describeIssues(issuesOf({ routes: [{ queues: ['A'] }] }), { whole: '(body)', prefix: ['value', 3] })).toEqual(['value[3].routes[0].queues[0]: must be lower-case letters']);
  });

  it("says a missing value is missing in the given words only when asked, keeping zod's text otherwise", () => {
    const issues = issuesOf({ routes: [{}] });
    expect(describeIssues(issues, { whole: '(file)' })).toEqual(['routes[0].queues: Invalid input: expected array, received undefined']);
    expect(describeIssues(issues, { whole: '(file)', missing: 'is required' })).toEqual(['routes[0].queues: is required']);
    // A value of the wrong type is not a missing one.
    expect(describeIssues(issuesOf({ routes: [{ queues: 1 }] }), { whole: '(file)', missing: 'is required' })).toEqual(['routes[0].queues: Invalid input: expected array, received number']);
  });
});
