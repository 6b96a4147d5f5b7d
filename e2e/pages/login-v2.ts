/**
 * Zitadel Login V2 (facts A2): test ids of Zitadel's own acceptance tests, headings and texts
 * of its English catalogue. Only locators and single actions live here; the flow decides.
 */
import type { Locator, Page } from '@playwright/test';

export type LoginV2Step = 'loginname' | 'password' | 'mfa-setup' | 'accounts' | 'error' | 'pending';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class LoginV2Page {
  constructor(private readonly page: Page) {}

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

  get mfaSetupHeading(): Locator {
    return this.page.getByRole('heading', { name: 'Set up 2-Factor' });
  }

  /** "Skip" on "Set up 2-Factor"; the password page's "Reset Password" shares the test id, hence the text. */
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

  /** Which Login V2 screen is showing right now (no waiting: the flow polls this). */
  async currentStep(): Promise<LoginV2Step> {
    if (await this.errorBox.isVisible()) return 'error';
    if (await this.passwordInput.isVisible()) return 'password';
    if (await this.usernameInput.isVisible()) return 'loginname';
    if ((await this.mfaSetupHeading.isVisible()) && (await this.skipButton.isVisible())) return 'mfa-setup';
    if (await this.accountChooserPrompt.isVisible()) return 'accounts';
    return 'pending';
  }

  async errorText(): Promise<string> {
    return ((await this.errorBox.textContent()) ?? '').replace(/\s+/g, ' ').trim();
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
