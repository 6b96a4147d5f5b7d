/**
 * Looks for secret values everywhere a run leaves text: every file under a folder, every entry of
 * every zip (nested zips and the HTML report's embedded base64 zips too), in the encodings a secret
 * takes in artifacts (core/scrub.ts's secretVariants: raw, form-encoded, JSON, base64; plus URL-encoded). Binary entries
 * are searched as well (as latin1), since a token can sit in a binary blob's readable strings.
 * Zips are read with core/scrub.ts's reader, so the search sees exactly the entries the scrubber rewrote.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { EMBEDDED_ZIP, isZip, readZip, secretVariants } from '../../core/scrub.ts';

export interface Secret {
  /** What the value is (a label safe to print), e.g. `password of user 1`. */
  label: string;
  value: string;
}

export interface Finding {
  /** file (relative), then `!entry` per zip level */
  where: string;
  label: string;
}

/** One searchable blob: a file or a zip entry. */
export interface Blob {
  where: string;
  data: Buffer;
}

/** A blob and everything inside it (zip entries, embedded zips), depth first. */
async function expand(where: string, data: Buffer, out: Blob[]): Promise<void> {
  out.push({ where, data });
  if (isZip(data)) {
    for (const entry of readZip(data)) await expand(`${where}!${entry.name}`, entry.data, out);
    return;
  }
  const text = data.toString('utf8');
  let index = 0;
  for (const match of text.matchAll(EMBEDDED_ZIP)) await expand(`${where}!embedded-zip-${index++}`, Buffer.from(match[1]!, 'base64'), out);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Every file under `dir`, expanded; `where` is relative to `dir`. */
export async function blobsUnder(dir: string): Promise<Blob[]> {
  const out: Blob[] = [];
  for (const file of await filesUnder(dir)) await expand(relative(dir, file), await readFile(file), out);
  return out;
}

/** Where any form of any secret occurs. */
export function findSecrets(blobs: readonly Blob[], secrets: readonly Secret[]): Finding[] {
  const findings: Finding[] = [];
  const needles = secrets.map((s) => ({ label: s.label, forms: [...new Set([...secretVariants([s.value]), encodeURIComponent(s.value)])].map((v) => Buffer.from(v, 'utf8')) }));
  for (const blob of blobs) {
    for (const needle of needles) {
      if (needle.forms.some((form) => blob.data.includes(form))) findings.push({ where: blob.where, label: needle.label });
    }
  }
  return findings;
}

/**
 * Better Auth session cookies whose value is not masked — catches tokens we never saw in the DB.
 * Covers header form (`name=value`) and the JSON form of a cookie object (`"name":"…","value":"…"`).
 */
export function findUnmaskedSessionCookies(blobs: readonly Blob[]): Finding[] {
  const header = /better-auth\.session_token=(?!\[REDACTED\]|%5BREDACTED%5D|;|\s|$)/;
  const object = /"name"\s*:\s*"(?:__Secure-)?better-auth\.session_token"\s*,\s*"value"\s*:\s*"(?!\[REDACTED\]|")/;
  const findings: Finding[] = [];
  for (const blob of blobs) {
    const text = blob.data.toString('latin1');
    if (header.test(text) || object.test(text)) findings.push({ where: blob.where, label: 'unmasked session cookie' });
  }
  return findings;
}
