import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { infraKindsJson } from '../../scripts/write-kinds.js';
import { DEFAULT_QUEUES, KIND_NAMES, TEAMS_KINDS } from '../../shared/kinds/teams-kinds.js';
import { parseRoutingTable } from '../../shared/route/routing-table.js';
import { EVENT_TYPE_PREFIX } from '../../shared/route/teams-event.js';
import { RESOURCE_CATALOG } from '../../shared/subscriptions/resource-catalog.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;

/**
 * Files of the product outside shared/kinds/ that still hold knowledge of particular kinds: none left (the
 * backfill's plans, the subscription catalog's entries and the resource-path parsers are the kinds' own). Any
 * file that names a kind is a list that should derive from shared/kinds/.
 */
const NOT_YET_FROM_THE_REGISTRY: string[] = [];

const filesUnder = (dir: string): string[] =>
  readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });

describe('the registry of Teams kinds', () => {
  it("gives Bicep its default queues: infra/teams-kinds.json is the registry's (npm run kinds:write rewrites it)", () => {
    expect(read('infra/teams-kinds.json')).toBe(infraKindsJson());
    expect(JSON.parse(read('infra/teams-kinds.json'))).toEqual({ defaultQueues: DEFAULT_QUEUES });
    expect(read('infra/main.bicep')).toContain("loadJsonContent('teams-kinds.json')");
  });

  it('gives the event schema its kinds and types: each kind with the change types the subscription catalog gives it', () => {
    const schema = JSON.parse(read('docs/teams-event.schema.json')) as { properties: { kind: { enum: string[] }; type: { enum: string[] } } };
    expect(schema.properties.kind.enum).toEqual(KIND_NAMES);
    const types = KIND_NAMES.flatMap((kind) => {
      const changeTypes = new Set(RESOURCE_CATALOG.filter((r) => r.kind === kind).flatMap((r) => r.changeTypes));
      expect(changeTypes.size, kind).toBeGreaterThan(0);
      return CHANGE_TYPES.filter((c) => changeTypes.has(c)).map((c) => `${EVENT_TYPE_PREFIX}.${kind}.${c}`);
    });
    expect(schema.properties.type.enum).toEqual(types);
  });

  it("gives the routing file its kinds, and docs/events.md lists each kind's default queue", () => {
    const rules = KIND_NAMES.map((kind) => ({ match: { kind }, queues: [`q-${kind.toLowerCase()}`] }));
    const table = parseRoutingTable(JSON.stringify({ routes: rules }), 'test');
    for (const kind of KIND_NAMES) expect(table.route({ kind } as never)).toMatchObject({ queues: [`q-${kind.toLowerCase()}`] });
    expect(() => parseRoutingTable(JSON.stringify({ routes: [{ match: { kind: 'meeting' }, queues: ['q-x'] }] }), 'test')).toThrow(/kind/);
    const events = read('docs/events.md');
    for (const [kind, queue] of Object.entries(DEFAULT_QUEUES)) expect(events).toMatch(new RegExp(`\`${kind}\`[^\\n]*\`${queue}\``));
  });

  it('is the only place that names a kind, but for the files still to derive from it', () => {
    const literal = new RegExp(`'(${KIND_NAMES.join('|')})'|teams-(chats|chat-members|chat-messages|channel-messages)\\b`);
    const naming = [...filesUnder('shared'), ...filesUnder('functions')]
      .filter((path) => !path.startsWith('shared/kinds/') && literal.test(read(path)))
      .map((path) => relative(ROOT, join(ROOT, path)));
    expect(naming.sort()).toEqual(NOT_YET_FROM_THE_REGISTRY);
    expect(Object.keys(TEAMS_KINDS)).toEqual(KIND_NAMES);
  });
});
