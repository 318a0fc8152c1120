import { z } from 'zod';
import { BadRequestError } from '../errors.js';
import { describeIssues } from '../util/describe-issues.js';
import { changeNotificationSchema, lifecycleNotificationSchema, type NotificationCollection, type NotificationItem } from '../protocol/notification.js';

const envelopeSchema = z.looseObject({
  value: z.array(z.unknown()).min(1, 'must hold at least one notification'),
  validationTokens: z.array(z.string().min(1)).optional(),
});

const MAX_REPORTED_ISSUES = 5;

/**
 * Deepest nesting of objects and arrays accepted, the body itself being level 1. JSON.parse takes any depth,
 * but JSON.stringify (queueing) and the route's canonical JSON recurse and overflow the stack a few thousand
 * levels down; Graph's notifications are a handful of levels deep.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `json` nests objects or arrays deeper than `max`; iterative, so any depth is safe to measure. */
function nestsDeeperThan(json: unknown, max: number): boolean {
  const pending: [unknown, number][] = [[json, 1]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [value, depth] = next;
    if (depth > max) return true;
    for (const child of Object.values(value as object)) {
      if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return false;
}

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const media = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

/** One line per issue, a missing field said as such: `value[1].subscriptionId: is required`. */
function describe(issues: readonly z.core.$ZodIssue[], prefix: (string | number)[]): string[] {
  return describeIssues(issues, { whole: '(body)', prefix, missing: 'is required' });
}

/** Checks that the declared size is within the limit before anything is read. */
export function checkDeclaredLength(contentLength: number | null, maxBytes: number): void {
  if (contentLength !== null && contentLength > maxBytes) {
    throw new BadRequestError('ERR_BODY_TOO_LARGE', 413, `The body is ${contentLength} bytes; the limit is ${maxBytes}.`);
  }
}

/**
 * Turns a notification POST body into a typed collection, or throws BadRequestError (400, 413 or 415)
 * whose message says what is wrong (JSON nested deeper than MAX_JSON_DEPTH included). Each item is checked against the change or lifecycle schema, chosen by
 * the presence of `lifecycleEvent`.
 */
export function parseNotificationBody(body: Uint8Array, contentType: string | null, maxBytes: number): NotificationCollection {
  if (body.byteLength > maxBytes) {
    throw new BadRequestError('ERR_BODY_TOO_LARGE', 413, `The body is ${body.byteLength} bytes; the limit is ${maxBytes}.`);
  }
  if (!isJsonMediaType(contentType)) {
    throw new BadRequestError('ERR_UNSUPPORTED_MEDIA_TYPE', 415, `Notifications must be sent as application/json, not ${contentType ? `"${contentType}"` : 'without a Content-Type'}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (e) {
    // V8's message quotes part of the input; keep only the position so that no content reaches a log.
    const position = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new BadRequestError('ERR_INVALID_JSON', 400, `The body is not valid JSON${position ? ` (error at position ${position})` : ''}.`);
  }
  if (typeof json === 'object' && json !== null && nestsDeeperThan(json, MAX_JSON_DEPTH)) {
    throw new BadRequestError('ERR_JSON_TOO_DEEP', 400, `The body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`);
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    throw new BadRequestError('ERR_INVALID_NOTIFICATION', 400, 'The body is not a notification collection: ' + describe(envelope.error.issues, []).slice(0, MAX_REPORTED_ISSUES).join('; '));
  }
  const problems: string[] = [];
  const items: NotificationItem[] = [];
  envelope.data.value.forEach((raw, index) => {
    const isLifecycle = typeof raw === 'object' && raw !== null && 'lifecycleEvent' in raw;
    const parsed = (isLifecycle ? lifecycleNotificationSchema : changeNotificationSchema).safeParse(raw);
    if (parsed.success) items.push(parsed.data);
    else problems.push(...describe(parsed.error.issues, ['value', index]));
  });
  if (problems.length > 0) {
    const more = problems.length > MAX_REPORTED_ISSUES ? ` (and ${problems.length - MAX_REPORTED_ISSUES} more)` : '';
    throw new BadRequestError('ERR_INVALID_NOTIFICATION', 400, 'Some notifications are malformed: ' + problems.slice(0, MAX_REPORTED_ISSUES).join('; ') + more);
  }
  return { ...envelope.data, value: items };
}
