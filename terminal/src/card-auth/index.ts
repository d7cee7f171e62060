/**
 * Card authentication on the kiosk: `authenticateTap` (or `cardAuthenticator` for the tap
 * pipeline) decides a tap from its proof, the kiosk's read-key ring, the venue policy and
 * the highest counter seen; `deriveIssuedCardKeys` gives an enrolment desk the keys to
 * write to a new card. Card key layout and diversification inputs: see card-keys.ts.
 */
export * from './authenticate-tap.js';
export * from './card-keys.js';
export * from './personalise-card.js';
