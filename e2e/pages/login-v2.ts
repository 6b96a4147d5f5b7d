/**
 * Zitadel Login V2: its screens by path under the login base (`/loginname`, `/password`, `/mfa/set`…),
 * the test ids of Zitadel's own acceptance tests, and the h1 headings of its English catalogue
 * (apps/login/locales/en.json). Only locators, screen recognition and single actions live here; the
 * flow decides what to do on each screen.
 */
import type { Locator, Page } from '@playwright/test';
import type { Config } from '../../core/config.ts';
import { loginV2ScreenPath } from '../../core/sign-in-rules.ts';

/** A screen the sign-in passes through; `pending` while the page is still loading or rendering. */
export type LoginV2Screen =
  | { step: 'loginname' | 'password' | 'mfa-setup' | 'accounts' | 'pending' }
  | { step: 'error'; message: string }
  /** a second factor is asked for: forced setup without Skip, or verification of a registered factor */
  | { step: 'mfa-required'; heading: string; path: string; forcedSetup: boolean }
  /** a screen the flow cannot pass (password change, email verification, register, passkey…) */
  | { step: 'unexpected'; heading: string; path: string };

const HEADINGS = {
  loginname: 'Welcome back!',
  password: 'Password',
  accounts: 'Accounts',
  mfaSetup: 'Set up 2-Factor',
  mfaChoose: 'Verify your identity',
  secondFactor: 'Verify 2-Factor',
} as const;

/**
 * Where Login V2's password step sends a user who has second factors: one factor → its own screen
 * (`/otp/time-based`, `/otp/sms`, `/otp/email`, `/u2f`: "Verify 2-Factor"), several → `/mfa`
 * ("Verify your identity"). Forced MFA without a factor goes to `/mfa/set?force=true` instead.
 */
const SECOND_FACTOR_SCREENS: Readonly<Record<string, string>> = {
  '/mfa': HEADINGS.mfaChoose,
  '/otp/time-based': HEADINGS.secondFactor,
  '/otp/sms': HEADINGS.secondFactor,
  '/otp/email': HEADINGS.secondFactor,
  '/u2f': HEADINGS.secondFactor,
};

/** Headings of the screens the flow itself passes: on another path they are the page being left. */
const PASSED_SCREEN_HEADINGS: readonly string[] = [HEADINGS.loginname, HEADINGS.password, HEADINGS.accounts, HEADINGS.mfaSetup];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function oneLine(text: string | null): string {
  return (text ?? '').replace(/\s+/g, ' ').trim();
}

export class LoginV2Page {
  constructor(private readonly page: Page, private readonly config: Config) {}

  get usernameInput(): Locator {
    return this.page.getByTestId('username-text-input');
  }

  get passwordInput(): Locator {
    return this.page.getByTestId('password-text-input');
  }

  get submitButton(): Locator {
    return this.page.getByTestId('submit-button');
  }

  get errorBox(): Locator {
    return this.page.getByTestId('error');
  }

  /** Every Login V2 page has one h1 (the screen's title, or the user's name on the password change). */
  get heading(): Locator {
    return this.page.getByRole('heading', { level: 1 }).first();
  }

  /** "Skip" on "Set up 2-Factor" (absent when MFA is forced); the password page's "Reset Password" shares the test id, hence the text. */
  get skipButton(): Locator {
    return this.page.getByTestId('reset-button').filter({ hasText: 'Skip' });
  }

  get accountChooserPrompt(): Locator {
    return this.page.getByText('Select the account you want to use.');
  }

  accountButton(loginName: string): Locator {
    return this.page.getByRole('button', { name: new RegExp(escapeRegExp(loginName), 'i') });
  }

  get addAnotherAccount(): Locator {
    return this.page.getByRole('link', { name: 'Add another account' }).or(this.page.getByRole('button', { name: 'Add another account' }));
  }

  /** The rendered h1, or undefined while none shows. */
  private async visibleHeading(): Promise<string | undefined> {
    if (!(await this.heading.isVisible())) return undefined;
    const text = oneLine(await this.heading.textContent());
    return text || undefined;
  }

  /**
   * Which Login V2 screen is showing right now, from its path and what has rendered (no waiting:
   * the flow polls this). A screen counts once its heading shows; before that it is `pending`.
   */
  async currentScreen(): Promise<LoginV2Screen> {
    const url = new URL(this.page.url());
    const screen = loginV2ScreenPath(url, this.config);
    if (await this.errorBox.isVisible()) return { step: 'error', message: oneLine(await this.errorBox.textContent()) };
    if (screen === '/password' && (await this.passwordInput.isVisible())) return { step: 'password' };
    if (screen === '/loginname' && (await this.usernameInput.isVisible())) return { step: 'loginname' };
    if (screen === '/accounts' && (await this.accountChooserPrompt.isVisible())) return { step: 'accounts' };
    const heading = await this.visibleHeading();
    if (screen === undefined || heading === undefined) return { step: 'pending' };
    if (screen === '/mfa/set') {
      if (heading !== HEADINGS.mfaSetup) return { step: 'pending' };
      if (await this.skipButton.isVisible()) return { step: 'mfa-setup' };
      // Login V2 renders Skip only when `force` is not true; with force=false it may still be hydrating.
      if (url.searchParams.get('force') === 'false') return { step: 'pending' };
      return { step: 'mfa-required', heading, path: url.pathname, forcedSetup: true };
    }
    const secondFactorHeading = SECOND_FACTOR_SCREENS[screen];
    if (secondFactorHeading !== undefined) {
      return heading === secondFactorHeading ? { step: 'mfa-required', heading, path: url.pathname, forcedSetup: false } : { step: 'pending' };
    }
    if (['/login', '/loginname', '/password', '/accounts'].includes(screen) || PASSED_SCREEN_HEADINGS.includes(heading)) return { step: 'pending' };
    return { step: 'unexpected', heading, path: url.pathname };
  }

  async submitLoginName(loginName: string): Promise<void> {
    await this.usernameInput.fill(loginName);
    await this.submitButton.click();
  }

  async submitPassword(password: string): Promise<void> {
    await this.passwordInput.fill(password);
    await this.submitButton.click();
  }

  async skipMfaSetup(): Promise<void> {
    await this.skipButton.click();
  }

  /** Picks the configured account in the chooser, or starts a new one when it is not listed. */
  async chooseAccount(loginName: string): Promise<void> {
    const account = this.accountButton(loginName);
    if (await account.isVisible()) await account.click();
    else await this.addAnotherAccount.click();
  }
}
