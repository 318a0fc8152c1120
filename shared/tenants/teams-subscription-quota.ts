/** Teams allows this many change-notification subscriptions per tenant, every app's together. */
export const TEAMS_SUBSCRIPTIONS_PER_TENANT = 10_000;

/** The `tenants` self-check fails when the app's own subscriptions in a served tenant reach this many. */
export const TEAMS_QUOTA_FAIL_AT = 9_500;
