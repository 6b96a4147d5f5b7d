/** The page-object facade specs and flows receive as `app`: one object per page, plus what the browser did. */
import type { Page } from '@playwright/test';
import type { Config } from '../../core/config.ts';
import { TrafficLog } from '../support/traffic.ts';
import { AdminLayout } from './admin-layout.ts';
import { BotDetailPage, DeleteDialog } from './bot-detail-page.ts';
import { CreateBotPage } from './create-bot-page.ts';
import { DashboardPage } from './dashboard-page.ts';
import { EditBotPage } from './edit-bot-page.ts';
import { HomePage } from './home-page.ts';
import { LoginPage } from './login-page.ts';
import { LoginV2Page } from './login-v2.ts';
import { ProductsPage } from './products-page.ts';

export class App {
  readonly home: HomePage;
  readonly login: LoginPage;
  readonly loginV2: LoginV2Page;
  readonly layout: AdminLayout;
  readonly dashboard: DashboardPage;
  readonly products: ProductsPage;
  readonly createBot: CreateBotPage;
  readonly botDetail: BotDetailPage;
  readonly deleteDialog: DeleteDialog;
  readonly editBot: EditBotPage;
  readonly traffic: TrafficLog;
  /** When the test got its page: flows measure what is left of the check's deadline from here. */
  readonly startedAtMs = Date.now();

  constructor(readonly page: Page, readonly config: Config) {
    this.home = new HomePage(page);
    this.login = new LoginPage(page);
    this.loginV2 = new LoginV2Page(page, config);
    this.layout = new AdminLayout(page);
    this.dashboard = new DashboardPage(page);
    this.products = new ProductsPage(page);
    this.createBot = new CreateBotPage(page);
    this.botDetail = new BotDetailPage(page);
    this.deleteDialog = new DeleteDialog(page);
    this.editBot = new EditBotPage(page);
    this.traffic = new TrafficLog(page, new URL(config.appUrl).origin);
  }

  currentUrl(): URL {
    return new URL(this.page.url());
  }

  async goto(pathname: string): Promise<void> {
    await this.page.goto(pathname);
  }

  async reload(): Promise<void> {
    await this.page.reload();
  }

  /** A cookie of the app's host, by name (undefined when the browser no longer holds it). */
  async appCookie(name: string): Promise<{ name: string; value: string } | undefined> {
    const cookies = await this.page.context().cookies(this.config.appUrl);
    const cookie = cookies.find((c) => c.name === name);
    return cookie ? { name: cookie.name, value: cookie.value } : undefined;
  }

  /** Stores the signed-in browser state (cookies of app and IdP) for specs that start signed in. */
  async saveSignedInState(path: string): Promise<void> {
    await this.page.context().storageState({ path });
  }
}
