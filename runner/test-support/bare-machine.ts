/**
 * A machine with nothing but Node and npm, inside this one, for one command: a private mount
 * namespace (root only) where Debian's Chromium, its headless shell and PostgreSQL are hidden (an
 * empty folder bound over /usr/lib/chromium and /usr/lib/postgresql, an overlay of /usr/bin whose
 * whiteouts remove the browser commands), Playwright's browser folder is empty, and the checkout is
 * reachable only through a folder of mode 700 — as a clone in a `mktemp -d` folder or in /root is.
 * Nothing outside the command sees any of it; the namespace ends with the command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../embedded-stack.ts';

/** Every browser command in /usr/bin (Debian's chromium and chromium-headless-shell, Chrome). */
const BROWSER_COMMANDS = /^(chromium|google-chrome)/;

/** Root, and a kernel that lets it make a mount namespace with an overlay. */
export function canSimulateBareMachine(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { timeout: 10_000 }).status === 0;
}

export interface BareMachine {
  /** the checkout as the command sees it: `<folder of mode 700>/checkout` */
  checkout: string;
  /** the command's temp folder (TMPDIR): traversable, as /tmp is, and removed by dispose() */
  tmp: string;
  run(args: string[], options: { env?: Record<string, string>; timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  dispose(): void;
}

const SCRIPT = `set -e
for folder in /usr/lib/chromium /usr/lib/postgresql; do
  if [ -d "$folder" ]; then mount --bind "$BARE_EMPTY" "$folder"; fi
done
mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$BARE_UPPER,workdir=$BARE_WORK" /usr/bin
mount --bind "$BARE_REPO" "$BARE_CHECKOUT"
cd "$BARE_CHECKOUT"
exec "$@"
`;

export function bareMachine(): BareMachine {
  const locked = mkdtempSync(join(tmpdir(), 'sentinel-bare-')); // mode 700: only root may enter
  const tmp = mkdtempSync(join(tmpdir(), 'sentinel-bare-tmp-'));
  chmodSync(tmp, 0o755);
  const checkout = join(locked, 'checkout');
  const upper = join(locked, 'usr-bin-upper');
  for (const folder of [checkout, join(locked, 'empty'), join(locked, 'no-browsers'), upper, join(locked, 'usr-bin-work')]) mkdirSync(folder);
  // whiteouts (character devices 0:0) hide these names in the overlay of /usr/bin
  for (const command of readdirSync('/usr/bin').filter((name) => BROWSER_COMMANDS.test(name))) {
    const made = spawnSync('mknod', [join(upper, command), 'c', '0', '0']);
    if (made.status !== 0) throw new Error(`mknod failed: ${made.stderr}`);
  }
  return {
    checkout,
    tmp,
    run(args, options) {
      const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', SCRIPT, 'bare-machine', ...args], {
        detached: true, // its own process group: a deadline takes everything it started down with it
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          LANG: 'C.UTF-8',
          TMPDIR: tmp,
          PLAYWRIGHT_BROWSERS_PATH: join(locked, 'no-browsers'),
          BARE_EMPTY: join(locked, 'empty'),
          BARE_UPPER: upper,
          BARE_WORK: join(locked, 'usr-bin-work'),
          BARE_REPO: REPO_ROOT,
          BARE_CHECKOUT: checkout,
          ...options.env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, options.timeoutMs);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    dispose() {
      // the bind mount lived in the command's namespace only; were the checkout visible here, removing it would remove the repository
      if (readdirSync(checkout).length > 0) throw new Error(`${checkout} is not empty: not removing ${locked}`);
      rmSync(locked, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
