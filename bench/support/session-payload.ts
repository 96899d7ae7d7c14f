/** A session of realistic shape (~0.5 KB of JSON) for benchmarks. */
export function sessionPayload(n = 0) {
  return {
    userId: `user-${n}`,
    username: `user${n}@example.com`,
    roles: ['customer', 'beta'],
    visits: n,
    cart: {
      items: [
        { sku: 'A-100', qty: 2 },
        { sku: 'B-200', qty: 1 },
      ],
      currency: 'EUR',
    },
    preferences: { theme: 'dark', locale: 'en-GB', timezone: 'Europe/Berlin', newsletter: true },
    csrf: 'b3f1c1d4e5a6978812ab34cd56ef7890',
    lastSeen: '2026-11-24T10:00:00.000Z',
  };
}
