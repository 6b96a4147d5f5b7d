/**
 * An NSS certificate database (`cert9.db`) that holds trust anchors and nothing else, written
 * without NSS's `certutil`. Chromium on Linux verifies a server with its built-in root store plus the
 * anchors a user added to the NSS database in `$HOME/.pki/nssdb`; this file is how the suite adds the
 * configured CA there, in a private HOME, both for Debian's Chromium and for an npm-packaged one on
 * a machine with no NSS tools.
 *
 * The file is what `certutil -A -t C,, -i ca.pem` writes to a fresh database: per CA a certificate
 * object and an NSS trust object (trusted delegator for server authentication), as PKCS#11 attributes
 * in one SQLite table `nssPublic`, one column `a<type in hex>` per attribute. No key database is
 * written: NSS creates its own without a password, and then takes the trust attributes as written.
 * (A key database with a password — certutil's — makes NSS require an integrity signature on them.)
 */
import { createHash, X509Certificate } from 'node:crypto';

// PKCS#11 attribute and value codes (pkcs11t.h, NSS's pkcs11n.h).
const CKA = {
  CLASS: 0x0,
  TOKEN: 0x1,
  PRIVATE: 0x2,
  LABEL: 0x3,
  VALUE: 0x11,
  CERTIFICATE_TYPE: 0x80,
  ISSUER: 0x81,
  SERIAL_NUMBER: 0x82,
  SUBJECT: 0x101,
  MODIFIABLE: 0x170,
  TRUST_SERVER_AUTH: 0xce536358,
  TRUST_CLIENT_AUTH: 0xce536359,
  TRUST_EMAIL_PROTECTION: 0xce53635a,
  TRUST_CODE_SIGNING: 0xce53635b,
  TRUST_STEP_UP_APPROVED: 0xce536360,
  CERT_SHA1_HASH: 0xce5363b4,
  CERT_MD5_HASH: 0xce5363b5,
} as const;
const CKO_CERTIFICATE = 0x1;
const CKO_NSS_TRUST = 0xce534353;
const CKC_X_509 = 0x0;
const CKT_NSS_TRUSTED_DELEGATOR = 0xce534352;
const CKT_NSS_MUST_VERIFY_TRUST = 0xce534353;
const CKT_NSS_VALID_DELEGATOR = 0xce53435b;

/** The columns NSS itself creates (NSS 3.x sdb.c); NSS asks for attributes by column name. */
const NSS_COLUMNS = [
  'a0', 'a1', 'a2', 'a3', 'a10', 'a11', 'a12', 'a80', 'a81', 'a82', 'a83', 'a84', 'a85', 'a86', 'a87', 'a88', 'a89', 'a8a', 'a8b', 'a90',
  'a100', 'a101', 'a102', 'a103', 'a104', 'a105', 'a106', 'a107', 'a108', 'a109', 'a10a', 'a10b', 'a10c', 'a110', 'a111', 'a120', 'a121',
  'a122', 'a123', 'a124', 'a125', 'a126', 'a127', 'a128', 'a129', 'a130', 'a131', 'a132', 'a133', 'a134', 'a160', 'a161', 'a162', 'a163',
  'a164', 'a165', 'a166', 'a170', 'a180', 'a181', 'a200', 'a201', 'a202', 'a210', 'a300', 'a301', 'a302', 'a400', 'a401', 'a402', 'a403',
  'a404', 'a405', 'a406', 'a480', 'a481', 'a482', 'a500', 'a501', 'a502', 'a503', 'a40000211', 'a40000212', 'a80000001', 'ace534351',
  'ace534352', 'ace534353', 'ace534354', 'ace534355', 'ace534356', 'ace534357', 'ace534358', 'ace534364', 'ace534365', 'ace534366',
  'ace534367', 'ace534368', 'ace534369', 'ace534373', 'ace534374', 'ace536351', 'ace536352', 'ace536353', 'ace536354', 'ace536355',
  'ace536356', 'ace536357', 'ace536358', 'ace536359', 'ace53635a', 'ace53635b', 'ace53635c', 'ace53635d', 'ace53635e', 'ace53635f',
  'ace536360', 'ace5363b4', 'ace5363b5', 'ad5a0db00',
];
/** `id` is the rowid here (NSS declares it `PRIMARY KEY UNIQUE`, which needs an index this writer does not build). */
const CREATE_TABLE = `CREATE TABLE nssPublic (id INTEGER PRIMARY KEY, ${NSS_COLUMNS.join(', ')})`;
/** What NSS stores for an attribute that is present but empty. */
const NSS_EMPTY = Buffer.from([0xa5, 0x00, 0x5a]);

const ulong = (value: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
};
const bool = (value: boolean): Buffer => Buffer.from([value ? 1 : 0]);

/** The raw issuer, serial number and subject TLVs of a DER certificate (NSS indexes certificates by them). */
function certificateFields(der: Buffer): { issuer: Buffer; serial: Buffer; subject: Buffer } {
  const element = (offset: number): { start: number; content: number; end: number } => {
    let length = der[offset + 1]!;
    let content = offset + 2;
    if (length & 0x80) {
      const bytes = length & 0x7f;
      length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + der[content + i]!;
      content += bytes;
    }
    return { start: offset, content, end: content + length };
  };
  const tbs = element(element(0).content);
  const fields: Array<{ start: number; end: number }> = [];
  for (let offset = tbs.content; offset < tbs.end && fields.length < 6; ) {
    const next = element(offset);
    fields.push(next);
    offset = next.end;
  }
  // an explicit version ([0]) shifts the fields by one: serial, signature, issuer, validity, subject
  const first = der[tbs.content] === 0xa0 ? 1 : 0;
  const raw = (index: number) => {
    const field = fields[first + index];
    if (!field) throw new Error('not a DER X.509 certificate');
    return der.subarray(field.start, field.end);
  };
  return { serial: raw(0), issuer: raw(2), subject: raw(4) };
}

/** Every certificate of a PEM bundle, as DER. */
export function pemCertificates(pem: string): Buffer[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block).raw);
}

type Attributes = Map<number, Buffer>;

/** The two NSS objects that make one certificate a trust anchor for TLS servers. */
function trustAnchorObjects(der: Buffer, label: string): [Attributes, Attributes] {
  const { issuer, serial, subject } = certificateFields(der);
  const certificate: Attributes = new Map([
    [CKA.CLASS, ulong(CKO_CERTIFICATE)],
    [CKA.TOKEN, bool(true)],
    [CKA.PRIVATE, bool(false)],
    [CKA.LABEL, Buffer.from(label, 'utf8')],
    [CKA.VALUE, der],
    [CKA.CERTIFICATE_TYPE, ulong(CKC_X_509)],
    [CKA.ISSUER, issuer],
    [CKA.SERIAL_NUMBER, serial],
    [CKA.SUBJECT, subject],
    [CKA.MODIFIABLE, bool(true)],
  ]);
  const trust: Attributes = new Map([
    [CKA.CLASS, ulong(CKO_NSS_TRUST)],
    [CKA.TOKEN, bool(true)],
    [CKA.PRIVATE, bool(false)],
    [CKA.LABEL, NSS_EMPTY],
    [CKA.ISSUER, issuer],
    [CKA.SERIAL_NUMBER, serial],
    [CKA.MODIFIABLE, bool(true)],
    // certutil's `-t C,,`: a CA for TLS servers, nothing else
    [CKA.TRUST_SERVER_AUTH, ulong(CKT_NSS_TRUSTED_DELEGATOR)],
    [CKA.TRUST_CLIENT_AUTH, ulong(CKT_NSS_VALID_DELEGATOR)],
    [CKA.TRUST_EMAIL_PROTECTION, ulong(CKT_NSS_MUST_VERIFY_TRUST)],
    [CKA.TRUST_CODE_SIGNING, ulong(CKT_NSS_MUST_VERIFY_TRUST)],
    [CKA.TRUST_STEP_UP_APPROVED, bool(false)],
    [CKA.CERT_SHA1_HASH, createHash('sha1').update(der).digest()],
    [CKA.CERT_MD5_HASH, createHash('md5').update(der).digest()],
  ]);
  return [certificate, trust];
}

function rowOf(attributes: Attributes): SqlValue[] {
  return NSS_COLUMNS.map((column) => attributes.get(Number.parseInt(column.slice(1), 16)) ?? null);
}

/** cert9.db bytes trusting every certificate of `caPem` as a CA for TLS servers. */
export function nssTrustDatabase(caPem: string): Buffer {
  const rows: SqlValue[][] = [];
  pemCertificates(caPem).forEach((der, index) => {
    const [certificate, trust] = trustAnchorObjects(der, `sentinel-ca-${index + 1}`);
    rows.push(rowOf(certificate), rowOf(trust));
  });
  return sqliteDatabase('nssPublic', CREATE_TABLE, rows);
}

// --- A minimal SQLite 3 file: one table, written once (sqlite.org/fileformat2.html) ---

type SqlValue = null | number | string | Buffer;

/** 64 KiB pages: a row (one certificate) never needs an overflow page. */
const PAGE_SIZE = 65_536;
/** Largest payload a table leaf cell holds without overflow: usable size − 35. */
const MAX_LOCAL_PAYLOAD = PAGE_SIZE - 35;
const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;

function varint(value: number): Buffer {
  const bytes = [value & 0x7f];
  for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift((rest & 0x7f) | 0x80);
  return Buffer.from(bytes);
}

/** Record format: a header of serial types, then the values. Integers here are small and non-negative. */
function record(values: SqlValue[]): Buffer {
  const types: number[] = [];
  const bodies: Buffer[] = [];
  for (const value of values) {
    if (value === null) types.push(0);
    else if (typeof value === 'number') {
      if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new Error(`integer ${value} not supported`);
      if (value <= 1) types.push(8 + value);
      else {
        types.push(4);
        bodies.push(ulong(value));
      }
    } else {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      types.push(bytes.length * 2 + (typeof value === 'string' ? 13 : 12));
      bodies.push(bytes);
    }
  }
  const typeBytes = Buffer.concat(types.map(varint));
  // the header size counts its own varint
  let headerSize = typeBytes.length + 1;
  while (varint(headerSize).length + typeBytes.length !== headerSize) headerSize = varint(headerSize).length + typeBytes.length;
  return Buffer.concat([varint(headerSize), typeBytes, ...bodies]);
}

/** A b-tree page: header at `offset` (100 on page 1), cell pointers after it, cells packed at the end. */
function btreePage(kind: number, cells: Buffer[], offset = 0, rightChild?: number): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  const headerSize = kind === INTERIOR_TABLE ? 12 : 8;
  const content = cells.reduce((sum, cell) => sum + cell.length, 0);
  if (offset + headerSize + 2 * cells.length + content > PAGE_SIZE) throw new Error('page overflow');
  let contentStart = PAGE_SIZE;
  cells.forEach((cell, index) => {
    contentStart -= cell.length;
    cell.copy(page, contentStart);
    page.writeUInt16BE(contentStart, offset + headerSize + 2 * index);
  });
  page[offset] = kind;
  page.writeUInt16BE(cells.length, offset + 3);
  page.writeUInt16BE(contentStart % PAGE_SIZE, offset + 5); // 0 stands for 65536
  if (rightChild !== undefined) page.writeUInt32BE(rightChild, offset + 8);
  return page;
}

const leafCell = (rowid: number, payload: Buffer): Buffer => {
  if (payload.length > MAX_LOCAL_PAYLOAD) throw new Error('row too large for one page');
  return Buffer.concat([varint(payload.length), varint(rowid), payload]);
};

/** Pages of one table: a single leaf, or leaves under one interior root. Page numbers start at `firstPage`. */
function tablePages(rows: SqlValue[][], firstPage: number): Buffer[] {
  const leaves: Array<{ cells: Buffer[]; lastRowid: number }> = [];
  let used = Number.POSITIVE_INFINITY;
  rows.forEach((values, index) => {
    const rowid = index + 1;
    const cell = leafCell(rowid, record([null, ...values])); // the rowid column itself is stored as NULL
    if (used + cell.length + 2 > PAGE_SIZE) {
      leaves.push({ cells: [], lastRowid: rowid });
      used = 8;
    }
    const leaf = leaves[leaves.length - 1]!;
    leaf.cells.push(cell);
    leaf.lastRowid = rowid;
    used += cell.length + 2;
  });
  if (leaves.length <= 1) return [btreePage(LEAF_TABLE, leaves[0]?.cells ?? [])];
  // root first (it is the page sqlite_master names), then the leaves it points to
  const children = leaves.map((_, index) => firstPage + 1 + index);
  const pointers = leaves.slice(0, -1).map((leaf, index) => {
    const cell = Buffer.alloc(4);
    cell.writeUInt32BE(children[index]!);
    return Buffer.concat([cell, varint(leaf.lastRowid)]);
  });
  return [btreePage(INTERIOR_TABLE, pointers, 0, children[children.length - 1]), ...leaves.map((leaf) => btreePage(LEAF_TABLE, leaf.cells))];
}

function sqliteDatabase(table: string, createSql: string, rows: SqlValue[][]): Buffer {
  const tableRoot = 2;
  const master = btreePage(LEAF_TABLE, [leafCell(1, record(['table', table, table, tableRoot, createSql]))], 100);
  const pages = [master, ...tablePages(rows, tableRoot)];
  const header = master.subarray(0, 100);
  header.write('SQLite format 3\0', 0, 'latin1');
  header.writeUInt16BE(1, 16); // page size 65536 is written as 1
  header[18] = 1; // file format write version: legacy (rollback journal)
  header[19] = 1; // read version
  header[20] = 0; // reserved bytes per page
  header[21] = 64; // max embedded payload fraction
  header[22] = 32; // min embedded payload fraction
  header[23] = 32; // leaf payload fraction
  header.writeUInt32BE(1, 24); // file change counter
  header.writeUInt32BE(pages.length, 28); // database size in pages
  header.writeUInt32BE(1, 40); // schema cookie
  header.writeUInt32BE(4, 44); // schema format
  header.writeUInt32BE(1, 56); // text encoding UTF-8
  header.writeUInt32BE(1, 92); // version-valid-for (= change counter, so the size above is trusted)
  header.writeUInt32BE(3_040_001, 96); // SQLite version that wrote it
  return Buffer.concat(pages);
}
