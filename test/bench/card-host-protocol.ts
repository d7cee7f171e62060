/** Messages between bench:tap and its card host (card-host.ts), one schema each way. */
import { z } from 'zod';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** The cards to hold: given once, as the host's first message. */
export const CardHostSetup = z.object({
  type: z.literal('setup'),
  sunUid: z.string().regex(HEX),
  /** Keys 0–4 of the NTAG 424, hex. */
  sunKeys: z.array(z.string().regex(/^[0-9a-fA-F]{32}$/)).length(5),
  plainUid: z.string().regex(HEX),
});
export type CardHostSetup = z.infer<typeof CardHostSetup>;

export const CardHostCommand = z.discriminatedUnion('type', [
  CardHostSetup,
  z.object({ type: z.literal('tap'), id: z.number().int(), kind: z.enum(['sun', 'uid']) }),
  z.object({ type: z.literal('release'), id: z.number().int() }),
]);
export type CardHostCommand = z.infer<typeof CardHostCommand>;

export const CardHostReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('tapped'), id: z.number().int() }),
  z.object({ type: z.literal('tap-failed'), id: z.number().int(), message: z.string() }),
]);
export type CardHostReply = z.infer<typeof CardHostReply>;
