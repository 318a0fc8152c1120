import { badRequest } from './graph-error.js';

/** The OData query options of Graph's Teams read APIs, parsed and checked with Graph's rules and error texts. */

export const MAX_TOP = 50;
/** The page size when `$top` is absent (Graph does not document it; see docs/graph-simulator.md). */
export const DEFAULT_TOP = 20;

export type FilterOperator = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export interface FilterClause {
  readonly property: string;
  readonly operator: FilterOperator;
  /** A date-time literal as ms, or a quoted string's text. */
  readonly value: number | string;
}

const OPERATION_KINDS: Record<FilterOperator, string> = {
  eq: 'Equal',
  ne: 'NotEqual',
  gt: 'GreaterThan',
  ge: 'GreaterThanOrEqual',
  lt: 'LessThan',
  le: 'LessThanOrEqual',
};

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/;
const CLAUSE = /^([A-Za-z][A-Za-z/]*)\s+(eq|ne|gt|ge|lt|le)\s+(\S+)$/i;

export function parseTop(query: URLSearchParams): number {
  const raw = query.get('$top');
  if (raw === null) return DEFAULT_TOP;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw badRequest(`Invalid value '${raw}' for the $top query option.`, 'BadRequest');
  const top = Number(raw);
  if (top > MAX_TOP) {
    throw badRequest(`The query specified in the URI is not valid. The limit of '${MAX_TOP}' for Top query has been exceeded. The value from the incoming request is '${raw}'.`, 'BadRequest');
  }
  return top;
}

/** `a op v and b op w …`: date-times unquoted (OData literals), strings in single quotes. No `or`, no parentheses. */
export function parseFilter(query: URLSearchParams): FilterClause[] {
  const raw = query.get('$filter');
  if (raw === null) return [];
  return raw
    .trim()
    .split(/\s+and\s+/i)
    .map((text) => {
      const m = CLAUSE.exec(text.trim());
      if (!m) throw badRequest('Invalid filter clause', 'BadRequest');
      const [, property = '', op = '', literal = ''] = m;
      const quoted = /^'([^']*)'$/.exec(literal);
      let value: number | string;
      if (quoted) value = quoted[1] ?? '';
      else if (DATE_TIME.test(literal) && !Number.isNaN(Date.parse(literal))) value = Date.parse(literal);
      else throw badRequest('Invalid filter clause', 'BadRequest');
      return { property, operator: op.toLowerCase() as FilterOperator, value };
    });
}

export const notAllowed = (clause: FilterClause) =>
  badRequest(`The entity property '${clause.property}' and operationKind '${OPERATION_KINDS[clause.operator]}' is not allowed in $filter query.`, 'BadRequest');

/** A time window from `prop gt A` / `prop lt B` clauses (each at most once). */
export interface TimeWindow {
  gtMs?: number;
  ltMs?: number;
}

export function timeWindow(clauses: readonly FilterClause[], allowed: Partial<Record<FilterOperator, true>>): TimeWindow {
  const window: TimeWindow = {};
  for (const c of clauses) {
    if (typeof c.value !== 'number') throw badRequest('Invalid filter clause', 'BadRequest');
    if (!allowed[c.operator]) throw notAllowed(c);
    const bound = c.operator === 'gt' ? 'gtMs' : 'ltMs';
    if (window[bound] !== undefined) throw badRequest('Invalid filter clause', 'BadRequest');
    window[bound] = c.value;
  }
  return window;
}

/** Rejects query options an API does not support, as Graph does for the Teams read APIs. */
export function rejectOptions(query: URLSearchParams, names: readonly string[], api: string): void {
  for (const name of names) {
    if (query.has(name)) throw badRequest(`The query option '${name}' is not supported by ${api}.`, 'BadRequest');
  }
}
