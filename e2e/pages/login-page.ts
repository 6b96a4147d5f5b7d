/** The app's `/login` page (docs/target-contract.md §1.4). */
import type { Locator, Page } from '@playwright/test';

export class LoginPage {
  constructor(private readonly page: Page) {}

  get signInButton(): Locator {
    return this.page.getByRole('button', { name: 'Sign in with Zitadel' });
  }

  /** The same button while `POST /api/auth/sign-in/social` is in flight (it stays so when the call fails). */
  get signingInButton(): Locator {
    return this.page.getByRole('button', { name: 'Signing in...' });
  }

  async goto(redirect?: string): Promise<void> {
    await this.page.goto(redirect ? `/login?redirect=${encodeURIComponent(redirect)}` : '/login');
  }

  async startSignIn(): Promise<void> {
    await this.signInButton.click();
  }
}
