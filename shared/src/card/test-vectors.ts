import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Test support only (not exported from the package): the published NXP / RFC vectors in
 * shared/fixtures/ntag424-vectors.json, read relative to this file and checked on load so
 * a malformed fixture fails loudly instead of silently testing nothing.
 */

const hex = z.string().regex(/^(?:[0-9a-fA-F]{2})*$/, 'hex');

const VectorsSchema = z.object({
  cmac_rfc4493: z.array(z.object({ key: hex, message: hex, cmac: hex })).min(1),
  sun: z
    .array(
      z.object({
        source: z.string(),
        k_sdm_meta_read: hex,
        k_sdm_file_read: hex,
        picc_enc_data: hex,
        sdm_mac: hex,
        expect: z.object({
          valid: z.boolean(),
          picc_data_tag: hex,
          uid: hex,
          read_counter: z.number().int(),
        }),
      }),
    )
    .min(1),
  key_diversification_an10922_aes128: z
    .array(
      z.object({
        source: z.string(),
        master_key: hex,
        uid: hex,
        aid: hex,
        system_identifier_ascii: z.string(),
        diversified_key: hex,
      }),
    )
    .min(1),
  authenticate_ev2_first: z
    .array(
      z.object({
        source: z.string(),
        key: hex,
        rnd_a: hex,
        card_response_1_encrypted_rnd_b: hex,
        rnd_b: hex,
        pcd_part_2_data: hex,
        card_response_2_encrypted: hex,
        transaction_identifier: hex,
        k_ses_auth_enc: hex,
        k_ses_auth_mac: hex,
      }),
    )
    .min(1),
});
export type Ntag424Vectors = z.infer<typeof VectorsSchema>;

export const VECTORS_URL = new URL('../../fixtures/ntag424-vectors.json', import.meta.url);

export function loadNtag424Vectors(): Ntag424Vectors {
  return VectorsSchema.parse(JSON.parse(readFileSync(VECTORS_URL, 'utf8')));
}

/** Hex → Buffer for test literals. */
export function h(hexText: string): Buffer {
  return Buffer.from(hexText, 'hex');
}
