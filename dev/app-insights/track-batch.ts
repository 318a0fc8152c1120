import { gunzipSync } from 'node:zlib';

/** One telemetry item as Application Insights' ingestion (`/v2.1/track`) receives it. */
export interface Envelope {
  readonly name: string;
  readonly time: string;
  readonly iKey?: string;
  readonly tags?: Record<string, string>;
  readonly data?: {
    baseType?: string;
    baseData?: { message?: string; properties?: Record<string, string>; metrics?: { name: string; value: number }[] };
  };
}

/** One item ingestion refused, as its answer lists it. */
export interface TrackError {
  readonly index: number;
  readonly statusCode: number;
  readonly message: string;
}

/** Ingestion's answer to a track request (Breeze's `TrackResponse`). */
export interface TrackResponse {
  readonly itemsReceived: number;
  readonly itemsAccepted: number;
  readonly errors: TrackError[];
}

/**
 * A track request's body as ingestion reads it: gzip when `Content-Encoding: gzip` says so, then a JSON array of
 * items, one JSON object, or one object per line (NDJSON). A line that is not JSON is refused on its own; a
 * body that is neither gives undefined (the whole request is refused).
 */
export function readBatch(body: Buffer, contentEncoding: string | undefined): unknown[] | undefined {
  let text: string;
  try {
    text = (contentEncoding?.toLowerCase() === 'gzip' ? gunzipSync(body) : body).toString('utf8').trim();
  } catch {
    return undefined;
  }
  if (text === '') return [];
  if (text.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(text);
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return text.split('\n').map((line) => {
    try {
      return JSON.parse(line) as unknown;
    } catch {
      return Symbol.for('not json');
    }
  });
}

/** Why ingestion refuses an item (400, as it does), or undefined for an item it takes. */
export function refusalOf(item: unknown, instrumentationKey: string): string | undefined {
  if (typeof item === 'symbol') return 'Unexpected character encountered while parsing value: the line is not JSON.';
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'An item must be a JSON object (an Envelope).';
  const e = item as Record<string, unknown>;
  for (const field of ['name', 'time'] as const) {
    if (typeof e[field] !== 'string' || e[field] === '') return `Field '${field}' on type 'Envelope' is required but missing or empty. Expected: string, Actual: ${String(e[field])}`;
  }
  if (Number.isNaN(Date.parse(e.time as string))) return `Field 'time' on type 'Envelope' is not a valid date-time: ${String(e.time)}`;
  if (typeof e.iKey !== 'string' || e.iKey.toLowerCase() !== instrumentationKey.toLowerCase()) return 'Invalid instrumentation key';
  return undefined;
}

/**
 * The status ingestion answers for a batch: 200 when every item was taken, 206 when some were, else the
 * items' own status when they share one (400 for a batch of unknown keys) or 206 when they differ.
 */
export function statusOf(response: TrackResponse): number {
  if (response.errors.length === 0) return 200;
  if (response.itemsAccepted > 0) return 206;
  const statuses = new Set(response.errors.map((e) => e.statusCode));
  return statuses.size === 1 ? [...statuses][0]! : 206;
}
