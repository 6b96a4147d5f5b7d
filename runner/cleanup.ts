/**
 * What a browser run leaves to be said after its checks: how scrubbing the reports went (files that
 * could not be scrubbed, artifacts dropped because a secret went unrecorded) and the test users'
 * sessions the Playwright run did not end itself. It never changes a check's result; the run prints
 * it, writes it to summary.json, and the monitor logs it. Kept free of heavy imports: the monitor
 * loads it.
 */
import type { ScrubReport } from '../core/scrub.ts';
import type { SessionEnding } from '../core/sign-out.ts';

export interface BrowserRunCleanup {
  scrub: ScrubReport;
  /** Sessions the Playwright run left signed in, and what the runner's own sign-out made of them. */
  sessions: SessionEnding[];
}

/** summary.json's `sessions`: who the runner still had to sign out, and whose session is left. */
export interface SessionsSummary {
  endedByRunner: string[];
  notEnded: string[];
}

/** One report of several scrubs (the Playwright side's and the runner's, of one or two Playwright runs). */
export function mergeScrubReports(reports: readonly ScrubReport[]): ScrubReport {
  const dropped = [...new Set(reports.map((r) => r.artifactsDropped).filter((why): why is string => Boolean(why)))];
  return {
    filesRewritten: reports.reduce((sum, r) => sum + r.filesRewritten, 0),
    filesReplaced: [...new Set(reports.flatMap((r) => r.filesReplaced))],
    ...(dropped.length ? { artifactsDropped: dropped.join('; ') } : {}),
  };
}

export function mergeCleanups(cleanups: readonly BrowserRunCleanup[]): BrowserRunCleanup {
  return { scrub: mergeScrubReports(cleanups.map((c) => c.scrub)), sessions: cleanups.flatMap((c) => c.sessions) };
}

export function sessionsSummary(sessions: readonly SessionEnding[]): SessionsSummary {
  return {
    endedByRunner: sessions.filter((s) => s.ended).map((s) => s.who),
    notEnded: sessions.filter((s) => !s.ended).map((s) => `${s.who}: ${s.why ?? 'unknown'}`),
  };
}

/** The lines a person reads about it: none when there is nothing to say. */
export function cleanupLines(cleanup: BrowserRunCleanup): string[] {
  const lines: string[] = [];
  const { filesReplaced, artifactsDropped } = cleanup.scrub;
  if (filesReplaced.length) lines.push(`sentinel: replaced ${filesReplaced.length} report file(s) that could not be scrubbed of secrets: ${filesReplaced.join(', ')}`);
  if (artifactsDropped) lines.push(`sentinel: ${artifactsDropped}`);
  for (const session of cleanup.sessions) {
    lines.push(
      session.ended
        ? `sentinel: the Playwright run left ${session.who} signed in (its teardown did not end it); signed out now`
        : `sentinel: could not sign out ${session.who}: ${session.why ?? 'unknown'}; its row stays in the app's database until it expires`,
    );
  }
  return lines;
}
