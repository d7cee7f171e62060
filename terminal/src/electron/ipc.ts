import type { z } from 'zod';

/** The slice of an IPC event the checks need. */
export interface IpcEventLike {
  sender: unknown;
  senderFrame?: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void;
}

export class IpcRefused extends Error {
  override name = 'IpcRefused';
}

/**
 * Registers one IPC handler that (1) checks the sender is our kiosk window and its
 * frame is on the UI's origin, and (2) parses the arguments with the channel's schema
 * before the handler sees them.
 */
export function handleValidated<S extends z.ZodType>(
  ipc: IpcMainLike,
  channel: string,
  schema: S,
  isTrustedSender: (e: IpcEventLike) => boolean,
  handler: (arg: z.infer<S>) => unknown,
): void {
  ipc.handle(channel, (event, ...args) => {
    if (!isTrustedSender(event)) throw new IpcRefused(`refused ${channel}: untrusted sender`);
    const parsed = schema.safeParse(args.length <= 1 ? args[0] : args);
    if (!parsed.success) throw new IpcRefused(`refused ${channel}: invalid arguments`);
    return handler(parsed.data);
  });
}
