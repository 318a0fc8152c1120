import { TableClient } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import { tableOnce } from '../../shared/util/table-once.js';

describe('tableOnce', () => {
  it('gives every store on one table client the same create, and another client its own', () => {
    const table = new TableClient('https://relay.table.core.windows.net', 'backfill');
    expect(tableOnce(table)).toBe(tableOnce(table));
    expect(tableOnce(new TableClient('https://relay.table.core.windows.net', 'backfill'))).not.toBe(tableOnce(table));
  });
});
