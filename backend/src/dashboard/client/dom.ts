/// <reference lib="dom" />
import { ErrorBodySchema } from './schemas.js';

/** Small DOM and fetch helpers shared by the dashboard's modules. */

export const $ = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e as T;
};

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** A refusal from the API: its status, message and (for schema failures) the issues by field. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code = '',
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

async function answerOf(res: Response): Promise<unknown> {
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const e = ErrorBodySchema.safeParse(body);
    if (!e.success) throw new HttpError(res.status, `HTTP ${res.status}`);
    const { code, message, details } = e.data.error;
    throw new HttpError(res.status, message, code, details?.issues ?? []);
  }
  return body;
}

export async function getJson(url: string): Promise<unknown> {
  return answerOf(await fetch(url, { headers: { accept: 'application/json' } }));
}

/** POSTs a JSON body (or none) and returns the answer; a refusal throws an HttpError. */
export async function postJson(url: string, body?: unknown): Promise<unknown> {
  return answerOf(
    await fetch(url, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
}
