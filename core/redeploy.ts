/**
 * Redeploy drivers: how `e2e-session-redeploy` (and only it) replaces the running app.
 * `coolify` drives Coolify's API v4; `command` runs any shell command for targets without it.
 * The interface belongs to the driver, not the spec: the spec only awaits `redeploy()`.
 */
import { spawn } from 'node:child_process';
import type { Config } from './config.ts';
import { SentinelError } from './errors.ts';

export interface RedeployOutcome {
  ok: boolean;
  /** Coolify deployment uuid, when the driver has one */
  deploymentId?: string;
  /** terminal status as the platform names it (`finished`, `failed`, `cancelled-by-user`, `exit 0`) */
  status: string;
  /** the platform's view of the app afterwards (Coolify `running:healthy` …); context, not a verdict */
  applicationStatus?: string;
  /** one line, redacted */
  message?: string;
}

export interface RedeployDriver {
  readonly name: 'coolify' | 'command';
  /** Starts a redeploy and resolves when the platform says it is over; rejects only on the signal or a driver error. */
  redeploy(signal: AbortSignal): Promise<RedeployOutcome>;
}

export function commandDriver(command: string): RedeployDriver {
  return {
    name: 'command',
    redeploy(signal) {
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], signal, detached: false });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString()).slice(-500);
        });
        child.on('error', (error) => reject(error));
        child.on('close', (code, signalName) => {
          const status = signalName ? `signal ${signalName}` : `exit ${code}`;
          const lastLine = stderr.trim().split('\n').pop();
          resolve({ ok: code === 0, status, ...(code === 0 || !lastLine ? {} : { message: lastLine }) });
        });
      });
    },
  };
}

/** Picks the driver the configuration asks for (explicit driver, else coolify when configured, else command). */
export async function createRedeployDriver(config: Config): Promise<RedeployDriver> {
  const coolifyReady = Boolean(config.coolify.url && config.coolify.token && config.coolify.appUuid);
  const driver = config.redeploy.driver ?? (coolifyReady ? 'coolify' : config.redeploy.command ? 'command' : undefined);
  if (driver === 'command') {
    if (!config.redeploy.command) throw new SentinelError('config_invalid', 'redeploy.command (SENTINEL_REDEPLOY_COMMAND) is not set');
    return commandDriver(config.redeploy.command);
  }
  if (driver === 'coolify') {
    if (!coolifyReady) throw new SentinelError('config_invalid', 'the coolify redeploy driver needs SENTINEL_COOLIFY_URL, SENTINEL_COOLIFY_TOKEN and SENTINEL_COOLIFY_APP_UUID');
    const { coolifyDriver } = await import('./coolify.ts');
    return coolifyDriver(config);
  }
  throw new SentinelError('config_invalid', 'no redeploy driver: set the SENTINEL_COOLIFY_* variables or SENTINEL_REDEPLOY_COMMAND');
}
