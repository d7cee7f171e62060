/** Staff PIN hashes: the format is defined once, in shared/ (the backend writes them). */
export { PIN_HASH_ITERATIONS, hashPin, isPinShaped, verifyPin } from '@clubcard/shared';
