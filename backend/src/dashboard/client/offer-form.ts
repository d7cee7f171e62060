/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { z } from 'zod';
import { $, HttpError, el, getJson, postJson } from './dom.js';
import {
  OfferSchema,
  OfferSegmentsSchema,
  SegmentSizesSchema,
  type Offer,
  type OfferSegments,
  type Options,
  type SegmentSizes,
} from './schemas.js';

/**
 * Making and retiring targeted offers from the dashboard. The form checks what the
 * offers API checks, with the same messages, before sending; whatever the API still
 * refuses (a segment too small to target, say) is shown beside the field it names.
 */

const Text = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters');
const Bilingual = z.object({ en: Text, cy: Text });
const IsoDate = z.iso.date('a date like 2026-03-01');

/** The offers API's rules for a new offer (NewOfferSchema), as the form can check them. */
const OfferFormSchema = z
  .object({
    title: Bilingual,
    detail: Bilingual.optional(),
    segmentId: z.string().min(1, 'choose a segment'),
    serviceId: z.string().optional(),
    startsOn: IsoDate,
    endsOn: IsoDate.optional(),
  })
  .refine((o) => o.endsOn === undefined || o.endsOn >= o.startsOn, {
    path: ['endsOn'],
    message: 'the offer cannot end before it starts',
  });

/** Each field of the request body, by the path the API names in its refusals. */
const FIELDS: Record<string, string> = {
  segmentId: 'o-segment',
  title: 'o-title-en',
  'title.en': 'o-title-en',
  'title.cy': 'o-title-cy',
  detail: 'o-detail-en',
  'detail.en': 'o-detail-en',
  'detail.cy': 'o-detail-cy',
  serviceId: 'o-service',
  startsOn: 'o-starts',
  endsOn: 'o-ends',
};
const FIELD_IDS = [...new Set(Object.values(FIELDS))];

export interface OfferHooks {
  /** Reloads the offers table and chart. */
  reload: () => Promise<void>;
  /** The session has ended. */
  signedOut: () => void;
}

const value = (id: string): string => $<HTMLInputElement | HTMLSelectElement>(id).value;

/** The request body from the form: empty optional fields left out, a detail only if either is given. */
function bodyOfForm(): Record<string, unknown> {
  const body: Record<string, unknown> = {
    title: { en: value('o-title-en'), cy: value('o-title-cy') },
    segmentId: value('o-segment'),
    startsOn: value('o-starts'),
  };
  const detail = { en: value('o-detail-en'), cy: value('o-detail-cy') };
  if (detail.en.trim() !== '' || detail.cy.trim() !== '') body.detail = detail;
  if (value('o-service') !== '') body.serviceId = value('o-service');
  if (value('o-ends') !== '') body.endsOn = value('o-ends');
  return body;
}

function clearErrors(): void {
  $('offer-form-error').textContent = '';
  for (const id of FIELD_IDS) {
    $(`${id}-error`).textContent = '';
    $(id).removeAttribute('aria-invalid');
  }
}

/**
 * Shows each problem beside its field (the first message per field) and moves focus to
 * the first field named; a problem no field owns goes to the form's own message.
 */
function showErrors(problems: { field: string | null; message: string }[]): void {
  const general = problems.filter((p) => p.field === null).map((p) => p.message);
  const named = problems.filter((p): p is { field: string; message: string } => p.field !== null);
  for (const p of named) {
    const out = $(`${p.field}-error`);
    if (out.textContent !== '') continue;
    out.textContent = p.message;
    $(p.field).setAttribute('aria-invalid', 'true');
  }
  $('offer-form-error').textContent = [
    named.length > 0
      ? 'The offer was not made: see the fields marked below.'
      : 'The offer was not made.',
    ...general,
  ].join(' ');
  const first = FIELD_IDS.find((id) => named.some((p) => p.field === id));
  if (first) $(first).focus();
}

const fieldOfPath = (path: string): string | null =>
  FIELDS[path] ?? FIELDS[path.split('.')[0] ?? ''] ?? null;

/** Where an API refusal belongs: the fields its issues name, else by what it is about. */
function problemsOf(e: HttpError): { field: string | null; message: string }[] {
  if (e.issues.length > 0) {
    return e.issues.map((i) => ({ field: fieldOfPath(i.path), message: i.message }));
  }
  const field =
    e.code === 'unknown-service'
      ? 'o-service'
      : /\bsegments?\b/.test(e.message)
        ? 'o-segment'
        : null;
  return [{ field, message: e.message }];
}

/** How big a segment is, as the analytics API says (withheld under k), and whether it may be targeted. */
function sizeText(s: OfferSegments['segments'][number], sizes: SegmentSizes | null): string {
  const k = sizes?.k ?? 10;
  if (!s.targetable) return `fewer than ${k} residents, too few to target`;
  const [kind, key = ''] = s.segmentId.split(':');
  const residents =
    kind === 'rfm'
      ? sizes?.rfm.find((r) => r.segment === s.label)?.residents
      : sizes?.behavioural.find((b) => b.segment === Number(key))?.residents;
  return typeof residents === 'number'
    ? `${residents.toLocaleString('en-GB')} residents`
    : 'size withheld';
}

function segmentName(s: OfferSegments['segments'][number]): string {
  const [kind, key = ''] = s.segmentId.split(':');
  return kind === 'rfm' ? `RFM: ${s.label}` : `Behavioural segment ${Number(key) + 1}: ${s.label}`;
}

/** Fills the segment picker from the offers API (sizes from the segment-size table). */
async function loadSegments(): Promise<void> {
  const picker = $<HTMLSelectElement>('o-segment');
  const chosen = picker.value;
  const [segments, sizes] = await Promise.all([
    getJson('/api/v1/offers/segments').then((b) => OfferSegmentsSchema.parse(b)),
    getJson('/api/v1/analytics/segments')
      .then((b) => SegmentSizesSchema.parse(b))
      .catch(() => null),
  ]);
  const first = picker.options[0];
  picker.replaceChildren(...(first ? [first] : []));
  for (const s of segments.segments) {
    picker.append(
      el('option', { value: s.segmentId }, `${segmentName(s)} (${sizeText(s, sizes)})`),
    );
  }
  picker.value = chosen;
  $('o-segment-hint').textContent =
    segments.segments.length === 0
      ? 'No segments are published yet: run the segmentation first.'
      : 'From the latest segmentation. A segment of fewer than ' +
        `${sizes?.k ?? 10} residents cannot be targeted.`;
}

/** The services an offer may name (from the dashboard's options). */
export function fillOfferServices(services: Options['services']): void {
  const s = $<HTMLSelectElement>('o-service');
  const first = s.options[0];
  s.replaceChildren(...(first ? [first] : []));
  for (const x of services) s.append(el('option', { value: x.id }, x.name));
}

function setOpen(open: boolean): void {
  $('offer-form').hidden = !open;
  $('offer-new').setAttribute('aria-expanded', String(open));
}

let hooks: OfferHooks | null = null;
let retiring: Offer | null = null;

function failed(e: unknown, show: (message: string) => void): void {
  if (e instanceof HttpError && e.status === 401) {
    const dialog = $<HTMLDialogElement>('retire-dialog');
    if (dialog.open) dialog.close();
    setOpen(false);
    hooks?.signedOut();
  } else show((e as Error).message);
}

async function submit(): Promise<void> {
  clearErrors();
  const body = bodyOfForm();
  const checked = OfferFormSchema.safeParse(body);
  if (!checked.success) {
    showErrors(
      checked.error.issues.map((i) => ({
        field: fieldOfPath(i.path.join('.')),
        message: i.message,
      })),
    );
    return;
  }
  const form = $<HTMLFormElement>('offer-form');
  form.setAttribute('aria-busy', 'true');
  try {
    const made = OfferSchema.parse(await postJson('/api/v1/offers', body));
    form.reset();
    setOpen(false);
    const reach = made.targeted === null ? '' : ` It targets ${made.targeted} residents.`;
    $('offer-status').textContent = `Offer “${made.title}” made for ${made.segmentLabel}.${reach}`;
    $('offer-new').focus();
    await hooks?.reload();
  } catch (e) {
    if (e instanceof HttpError && e.status !== 401) showErrors(problemsOf(e));
    else failed(e, (m) => showErrors([{ field: null, message: m }]));
  } finally {
    form.removeAttribute('aria-busy');
  }
}

/** Adds a Retire button (with a confirmation step) to each active offer's row. */
export function addRetireButtons(host: HTMLElement, offers: readonly Offer[]): void {
  const table = host.querySelector('table');
  if (!table) return;
  table.querySelector('thead tr')?.append(el('th', { scope: 'col' }, 'Action'));
  table.querySelectorAll('tbody tr').forEach((row, i) => {
    const o = offers[i];
    const cell = el('td');
    if (o?.status === 'active') {
      const b = el(
        'button',
        { type: 'button', class: 'secondary small', 'data-offer': o.id },
        'Retire',
        el('span', { class: 'visually-hidden' }, ` offer “${o.title}”`),
      );
      b.addEventListener('click', () => {
        retiring = o;
        $('retire-text').textContent =
          `“${o.title}”, for ${o.segmentLabel}, will no longer be shown to residents: ` +
          'kiosks drop it at their next sync. A retired offer cannot be made active again.';
        $('retire-error').textContent = '';
        $<HTMLDialogElement>('retire-dialog').showModal();
      });
      cell.append(b);
    }
    row.append(cell);
  });
}

async function confirmRetire(): Promise<void> {
  const o = retiring;
  if (!o) return;
  try {
    const done = OfferSchema.parse(
      await postJson(`/api/v1/offers/${encodeURIComponent(o.id)}/retire`),
    );
    retiring = null;
    $<HTMLDialogElement>('retire-dialog').close();
    $('offer-status').textContent = `Offer “${done.title}” is ${done.status}.`;
    await hooks?.reload();
    $('offers-table').focus();
  } catch (e) {
    failed(e, (m) => {
      $('retire-error').textContent = `Could not retire the offer: ${m}`;
    });
  }
}

/** Wires the form and the confirmation dialog (once). */
export function setUpOffers(h: OfferHooks): void {
  if (hooks) return;
  hooks = h;
  $('offer-new').addEventListener('click', () => {
    const open = $('offer-form').hidden;
    setOpen(open);
    if (!open) return;
    clearErrors();
    $('offer-status').textContent = '';
    $('o-segment').focus();
    void loadSegments().catch((e: unknown) =>
      failed(e, (m) => {
        $('offer-form-error').textContent = `Could not load the segments: ${m}`;
      }),
    );
  });
  $('offer-cancel').addEventListener('click', () => {
    $<HTMLFormElement>('offer-form').reset();
    clearErrors();
    setOpen(false);
    $('offer-new').focus();
  });
  $('offer-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void submit();
  });
  $('retire-confirm').addEventListener('click', () => void confirmRetire());
  $('retire-cancel').addEventListener('click', () => {
    retiring = null;
    $<HTMLDialogElement>('retire-dialog').close();
  });
  $('retire-dialog').addEventListener('close', () => {
    retiring = null;
  });
}
