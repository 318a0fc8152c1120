/** The simulated Teams users the tests act as (Entra object ids). */
export const ALICE = 'a11ce000-0000-4000-8000-000000000001';
export const BOB = 'b0b00000-0000-4000-8000-000000000002';
export const CAROL = 'ca201000-0000-4000-8000-000000000003';
export const DAVE = 'da7e0000-0000-4000-8000-000000000004';
