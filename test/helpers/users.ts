import type { GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';

/** The simulated Teams users the tests act as (Entra object ids). */
export const ALICE = 'a11ce000-0000-4000-8000-000000000001';
export const BOB = 'b0b00000-0000-4000-8000-000000000002';
export const CAROL = 'ca201000-0000-4000-8000-000000000003';
export const DAVE = 'da7e0000-0000-4000-8000-000000000004';

/** Alice and Bob as users of the simulated tenant, and a chat of the two (its id). */
export function chatOfAliceAndBob(teams: GraphSimulator['teams']): { id: string } {
  for (const [id, displayName] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
  ] as const)
    teams.addUser({ id, displayName });
  return teams.createChat({ members: [ALICE, BOB] });
}
