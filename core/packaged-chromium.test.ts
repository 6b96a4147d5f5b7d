/**
 * Unpacking the packaged Chromium, on a stand-in package of the same layout (small Brotli files):
 * concurrent launches from several processes share one complete folder, a folder at that path that
 * is not safely ours is refused, and archive entries never leave the target folder.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SentinelError } from './errors.ts';
import { extractTar, packagedChromiumDir, unpackPackagedChromium, type PackagedChromium } from './packaged-chromium.ts';

const run = promisify(execFile);

/** A ustar archive of regular files (type 0) and folders (type 5). */
function tar(entries: Array<{ name: string; body?: string; type?: '0' | '5' | '2' }>): Buffer {
  const blocks: Buffer[] = [];
  for (const { name, body = '', type = '0' } of entries) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 'utf8');
    header.write('0000755\0', 100, 'latin1');
    header.write(`${Buffer.byteLength(body).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write(type, 156, 'latin1');
    header.write('ustar  \0', 257, 'latin1');
    blocks.push(header);
    const content = Buffer.from(body);
    blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

let dir: string;
let pkg: PackagedChromium;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-packaged-'));
  const binDir = join(dir, 'package', 'bin');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, 'chromium.br'), brotliCompressSync(Buffer.from(`#!/bin/sh\necho fake chromium\n${'x'.repeat(2_000_000)}\n`)));
  writeFileSync(join(binDir, 'swiftshader.tar.br'), brotliCompressSync(tar([{ name: 'libGLESv2.so', body: 'gl' }])));
  writeFileSync(join(binDir, 'al2023.tar.br'), brotliCompressSync(tar([{ name: 'lib/libnss3.so', body: 'nss' }])));
  writeFileSync(join(binDir, 'fonts.tar.br'), brotliCompressSync(tar([{ name: 'fonts.conf', body: '<dir>/tmp/fonts</dir>' }, { name: 'fonts/', type: '5' }, { name: 'fonts/Open_Sans/OpenSans-Regular.ttf', body: 'ttf' }])));
  pkg = { version: '0.0.1-test', binDir };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('unpackPackagedChromium', () => {
  it('unpacks once into a private folder: the binary, its libraries, fonts, and a fonts.conf of its own', async () => {
    const target = packagedChromiumDir(pkg.version, join(dir, 'tmp-a'));
    const unpacked = await unpackPackagedChromium(pkg, target);
    expect(unpacked.executablePath).toBe(join(target, 'chromium'));
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(statSync(unpacked.executablePath).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(target, 'lib', 'libnss3.so'), 'utf8')).toBe('nss');
    expect(readFileSync(join(target, 'libGLESv2.so'), 'utf8')).toBe('gl');
    expect(existsSync(join(target, 'fonts', 'Open_Sans', 'OpenSans-Regular.ttf'))).toBe(true);
    const fontsConf = readFileSync(join(target, 'fonts.conf'), 'utf8');
    expect(fontsConf).toContain(`<dir>${join(target, 'fonts')}</dir>`);
    expect(fontsConf).not.toContain('/tmp/fonts');
    expect(unpacked.env.LD_LIBRARY_PATH!.split(':')[0]).toBe(join(target, 'lib'));
    expect(unpacked.env.FONTCONFIG_FILE).toBe(join(target, 'fonts.conf'));
    // a second call finds it: same folder, nothing rewritten
    const before = statSync(unpacked.executablePath).mtimeMs;
    await unpackPackagedChromium(pkg, target);
    expect(statSync(unpacked.executablePath).mtimeMs).toBe(before);
  });

  it('concurrent first launches from several processes end with one complete folder and no leftovers', async () => {
    const base = join(dir, 'tmp-b');
    const target = packagedChromiumDir(pkg.version, base);
    const script = `const { unpackPackagedChromium } = await import(${JSON.stringify(new URL('./packaged-chromium.ts', import.meta.url).href)});
      const unpacked = await unpackPackagedChromium(${JSON.stringify(pkg)}, ${JSON.stringify(target)});
      process.stdout.write(unpacked.executablePath);`;
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 }).then((r) => r.stdout)),
    );
    expect(new Set(outputs)).toEqual(new Set([join(target, 'chromium')]));
    expect(readdirSync(base)).toEqual([`sentinel-chromium-${pkg.version}-${process.getuid?.() ?? 0}`]);
    expect(readFileSync(join(target, 'chromium'), 'utf8').startsWith('#!/bin/sh\necho fake chromium\n')).toBe(true);
  });

  it('two unpacks racing for one folder: the later rename loses and uses the winner\'s folder', async () => {
    const base = join(dir, 'tmp-race');
    const target = packagedChromiumDir(pkg.version, base);
    // two spellings of one path: both find no folder and unpack side by side
    const spelled = join(base, '.', `sentinel-chromium-${pkg.version}-${process.getuid?.() ?? 0}`).replace(base, `${base}/.`);
    expect(spelled).not.toBe(target);
    const [first, second] = await Promise.all([unpackPackagedChromium(pkg, target), unpackPackagedChromium(pkg, spelled)]);
    expect(first.dir).toBe(target);
    expect(second.dir).toBe(spelled);
    expect(readdirSync(base)).toEqual([`sentinel-chromium-${pkg.version}-${process.getuid?.() ?? 0}`]);
    expect(existsSync(join(target, '.sentinel-unpacked'))).toBe(true);
  });

  it('refuses a folder at that path that others can write into (whatever sits there would be executed)', async () => {
    const target = packagedChromiumDir(pkg.version, join(dir, 'tmp-c'));
    mkdirSync(target, { recursive: true });
    chmodSync(target, 0o777);
    const error = await unpackPackagedChromium(pkg, target).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect((error as SentinelError).code).toBe('no_browser');
    expect((error as SentinelError).message).toBe(`the packaged Chromium's folder ${target} cannot be used: others can write into it; remove it (sentinel unpacks it again)`);
  });

  it('a package that cannot be unpacked is a no_browser error and leaves no partial folder', async () => {
    const broken = { version: '0.0.2-test', binDir: join(dir, 'no-such-bin') };
    const base = join(dir, 'tmp-d');
    const error = await unpackPackagedChromium(broken, packagedChromiumDir(broken.version, base)).catch((e: unknown) => e);
    expect((error as SentinelError).code).toBe('no_browser');
    expect((error as SentinelError).message).toMatch(/^cannot unpack the packaged Chromium \(@sparticuz\/chromium@0\.0\.2-test\) into .*: ENOENT/);
    expect(readdirSync(base)).toEqual([]);
  });
});

describe('extractTar', () => {
  it('refuses entries that leave the target folder and kinds other than files and folders', () => {
    const into = join(dir, 'tar-out');
    expect(() => extractTar(tar([{ name: '../escaped', body: 'x' }]), into)).toThrow('archive entry ../escaped leaves the target folder');
    expect(() => extractTar(tar([{ name: 'link', type: '2' }]), into)).toThrow('archive entry link has type "2", expected a file or a folder');
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
  });
});
