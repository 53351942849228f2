/**
 * Who may loosen a gate, and how that is checked: keysets, signed envelopes, signed decisions and
 * the one vote rule. Pure; workflow code verifies with it.
 */
export * from './keyset';
export * from './envelope';
export * from './decisions';
export * from './votes';
export * from './webauthn';
