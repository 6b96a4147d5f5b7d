/**
 * The Chromium that arrives with `npm install`: the optional dependency @sparticuz/chromium ships a
 * headless-shell build of Chromium for Linux x64 inside the npm package, as Brotli files. This module
 * unpacks it once into a private folder of the temp folder and hands back the executable; it never
 * calls the package's own code (see why below), only reads its files.
 *
 * Where: `<os.tmpdir()>/sentinel-chromium-<package version>-<uid>/` (TMPDIR moves it), ~210 MB:
 * `chromium`, SwiftShader's GL libraries beside it (Chromium loads them from its own folder), `lib/`
 * with the NSS, NSPR and expat libraries the build links against (so it runs on a machine that has
 * none of them, e.g. a slim container image), `fonts/` with the package's fonts and a `fonts.conf`
 * that adds them to the system's fontconfig configuration (a machine without fonts still lays out text).
 * It survives the run: the next launch finds it in a few milliseconds; a reboot (or a tmp cleaner)
 * removes it, and the next launch unpacks it again (~2–6 s).
 *
 * Safe when launched repeatedly and concurrently (two runs, Playwright's runner and its workers):
 * every unpack goes into a fresh folder of its own that is renamed into place whole, with a stamp
 * written last, so a reader sees a complete folder or none; a process that loses the rename race
 * uses the winner's. A folder at that path is used only when it is a real folder (not a link), owned
 * by this user and writable by nobody else — the temp folder is shared, and whatever sits there is
 * executed.
 *
 * Why not the package's executablePath(): it unpacks to the fixed path `<tmp>/chromium` shared by
 * every user (a file another user placed there would be executed), returns a half-written binary to
 * a concurrent caller, and spreads libraries and fonts over the temp folder itself.
 */
import { createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { brotliDecompress, createBrotliDecompress } from 'node:zlib';
import { SentinelError } from './errors.ts';

export const PACKAGED_CHROMIUM_PACKAGE = '@sparticuz/chromium';
const STAMP = '.sentinel-unpacked';
const decompress = promisify(brotliDecompress);

export interface PackagedChromium {
  version: string;
  /** the package's folder of Brotli files */
  binDir: string;
}

/** The installed package, or undefined (not installed, or no build for this platform: Linux x64 only). */
export function findPackagedChromium(platform: string = process.platform, arch: string = process.arch): PackagedChromium | undefined {
  if (platform !== 'linux' || arch !== 'x64') return undefined;
  // by folder, the way Node looks packages up from here: the package's exports hide its package.json
  const manifest = (createRequire(import.meta.url).resolve.paths(PACKAGED_CHROMIUM_PACKAGE) ?? [])
    .map((modules) => join(modules, PACKAGED_CHROMIUM_PACKAGE, 'package.json'))
    .find((path) => existsSync(path));
  if (!manifest) return undefined;
  const binDir = join(dirname(manifest), 'bin');
  if (!existsSync(join(binDir, 'chromium.br'))) return undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { version, binDir };
}

/** Where a version is unpacked for this user. */
export function packagedChromiumDir(version: string, baseDir: string = tmpdir(), uid: number = process.getuid?.() ?? 0): string {
  return join(baseDir, `sentinel-chromium-${version}-${uid}`);
}

export interface UnpackedChromium {
  dir: string;
  executablePath: string;
  /** Environment the build needs: its own libraries first, and the fonts configuration. */
  env: Record<string, string>;
}

function describe(dir: string): UnpackedChromium {
  return {
    dir,
    executablePath: join(dir, 'chromium'),
    env: {
      LD_LIBRARY_PATH: [join(dir, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
  };
}

/** 'ready' (complete and safe to execute), 'absent', or why the folder at that path must not be used. */
function inspect(dir: string): 'ready' | 'absent' | 'incomplete' | string {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch {
    return 'absent';
  }
  const uid = process.getuid?.();
  if (!stat.isDirectory()) return 'it is not a folder';
  if (uid !== undefined && stat.uid !== uid) return `it belongs to uid ${stat.uid}`;
  if ((stat.mode & 0o022) !== 0) return 'others can write into it';
  return existsSync(join(dir, STAMP)) ? 'ready' : 'incomplete';
}

const unpacking = new Map<string, Promise<UnpackedChromium>>();

/** The unpacked build, unpacking it first when needed; SentinelError('no_browser') when that fails. */
export function unpackPackagedChromium(pkg: PackagedChromium, dir: string = packagedChromiumDir(pkg.version)): Promise<UnpackedChromium> {
  let pending = unpacking.get(dir);
  if (!pending) {
    pending = unpackOnce(pkg, dir).finally(() => unpacking.delete(dir));
    unpacking.set(dir, pending);
  }
  return pending;
}

async function unpackOnce(pkg: PackagedChromium, dir: string): Promise<UnpackedChromium> {
  const state = inspect(dir);
  if (state === 'ready') return describe(dir);
  if (state !== 'absent' && state !== 'incomplete') {
    throw new SentinelError('no_browser', `the packaged Chromium's folder ${dir} cannot be used: ${state}; remove it (sentinel unpacks it again)`);
  }
  // ours, but without its stamp: not written by this module (renames are whole); start over
  if (state === 'incomplete') rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const scratch = mkdtempSync(`${dir}.partial-`); // mode 700
  try {
    await pipeline(createReadStream(join(pkg.binDir, 'chromium.br')), createBrotliDecompress(), createWriteStream(join(scratch, 'chromium'), { mode: 0o755 }));
    for (const archive of ['swiftshader.tar.br', 'al2023.tar.br', 'fonts.tar.br']) {
      extractTar(await decompress(readFileSync(join(pkg.binDir, archive))), scratch, (name) => name !== 'fonts.conf');
    }
    writeFileSync(join(scratch, 'fonts.conf'), fontsConf(dir));
    writeFileSync(join(scratch, STAMP), `${PACKAGED_CHROMIUM_PACKAGE}@${pkg.version}\n`);
    try {
      renameSync(scratch, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      rmSync(scratch, { recursive: true, force: true }); // another process finished first: use its folder
      if (inspect(dir) !== 'ready') throw error;
    }
    return describe(dir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    if (error instanceof SentinelError) throw error;
    throw new SentinelError('no_browser', `cannot unpack the packaged Chromium (${PACKAGED_CHROMIUM_PACKAGE}@${pkg.version}) into ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** The system's fontconfig setup (when there is one) plus the package's fonts. */
function fontsConf(dir: string): string {
  const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    `  <dir>${xml(join(dir, 'fonts'))}</dir>`,
    `  <cachedir>${xml(join(dir, 'fontconfig-cache'))}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
}

/**
 * Regular files and folders of a (ustar / GNU) tar into `into`; anything else, or a name that leaves
 * `into`, is an error. The package's archives hold nothing else.
 */
export function extractTar(archive: Buffer, into: string, keep: (name: string) => boolean = () => true): void {
  const field = (offset: number, length: number) => archive.toString('utf8', offset, offset + length).replace(/\0.*$/s, '');
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const name = field(offset, 100);
    if (!name) break; // the end-of-archive blocks
    const prefix = archive.toString('latin1', offset + 257, offset + 262) === 'ustar' ? field(offset + 345, 155) : '';
    const path = prefix ? `${prefix}/${name}` : name;
    const size = Number.parseInt(field(offset + 124, 12).trim() || '0', 8);
    const mode = Number.parseInt(field(offset + 100, 8).trim() || '644', 8) & 0o755;
    const type = archive.toString('latin1', offset + 156, offset + 157);
    const target = normalize(join(into, path));
    if (path.startsWith('/') || !(target + sep).startsWith(normalize(into) + sep)) throw new Error(`archive entry ${path} leaves the target folder`);
    const body = offset + 512;
    if (type === '5') mkdirSync(target, { recursive: true });
    else if (type === '0' || type === '\0') {
      if (keep(path)) {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, archive.subarray(body, body + size), { mode });
      }
    } else throw new Error(`archive entry ${path} has type ${JSON.stringify(type)}, expected a file or a folder`);
    offset = body + Math.ceil(size / 512) * 512;
  }
}
