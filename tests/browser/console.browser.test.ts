import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestConsoleLink } from '../../scripts/console.js';
import { startConsoleScenario, type ConsoleScenario } from '../support/console-scenario.js';

/**
 * The web console in a real browser: Debian's Chromium (/usr/bin/chromium, which .ci/run installs when it
 * is missing) driven by playwright-core. Signs in as `ledger console login` does, finds an account, opens
 * its statement, a payment with its events and verified chain, and a day's trial balance. Screenshots go
 * to test-artifacts/console/ (git-ignored). Without Chromium (a developer's laptop) the suite is skipped.
 */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const hasChromium = existsSync(CHROMIUM);
// CI (.ci/run) sets CONSOLE_BROWSER_TESTS=required: there a missing browser is a failure, not a skip.
const required = process.env['CONSOLE_BROWSER_TESTS'] === 'required';
if (!hasChromium && !required)
  console.warn(
    `console browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );

describe.runIf(!hasChromium && required)('the web console in Chromium (required here)', () => {
  it('finds Chromium', () => {
    expect.fail(`no Chromium at ${CHROMIUM}: .ci/run installs it as root (apt-get install -y chromium)`);
  });
});

describe.skipIf(!hasChromium)('the web console in Chromium', () => {
  let s: ConsoleScenario;
  let browser: BrowserContext;
  let page: Page;
  let baseUrl: string;
  const profile = mkdtempSync(join(tmpdir(), 'ledger-chromium-'));

  beforeAll(async () => {
    s = await startConsoleScenario();
    await s.ledger.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(s.ledger.app.server.address() as AddressInfo).port}`;
    mkdirSync(ARTIFACTS, { recursive: true });
    // A fresh profile: playwright passes it to Chromium as --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timeout: 60_000,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(30_000);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await s?.ledger.close();
    rmSync(profile, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('signs in with the link `ledger console login` prints', async () => {
    const link = await requestConsoleLink({
      baseUrl,
      keyId: s.ledger.operator.keyId,
      privateKeyPem: s.ledger.operator.privateKeyPem,
      role: 'operator',
    });
    await page.goto(link.url);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.waitForURL(`${baseUrl}/console`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Search');
    const cookie = (await browser.cookies()).find((c) => c.name === 'ledger_console');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    await shot('01-search');
  });

  it('finds an account and opens its statement', async () => {
    await page.getByLabel('Account number or owner id').fill(s.wallet);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('link', { name: s.wallet }).first().click();
    await page.waitForURL(`${baseUrl}/console/accounts/${s.wallet}`);
    expect(await page.locator('dl').textContent()).toContain('487.50');
    // The hostile name is shown as text, not run.
    expect(await page.locator('dl').textContent()).toContain('<script>alert(1)</script>');
    expect(await page.locator('table tbody tr').count()).toBe(2);
    await shot('02-account-statement');
  });

  it('opens the payment from the statement: its events and a verified chain', async () => {
    await page.getByRole('link', { name: s.paymentId }).click();
    await page.waitForURL(`${baseUrl}/console/operations/payment/${s.paymentId}`);
    expect(await page.locator('[data-chain]').getAttribute('data-chain')).toBe('verified');
    expect(await page.locator('table tbody tr').count()).toBeGreaterThan(0);
    await shot('03-payment-events');
  });

  it("opens the day's trial balance with the zero check", async () => {
    await page.getByRole('link', { name: 'Books' }).click();
    await page.getByRole('link', { name: 'CNY' }).first().click();
    await page.waitForURL(/\/console\/books\?date=/);
    expect(await page.locator('[data-zero-check]').getAttribute('data-zero-check')).toBe('balanced');
    expect(await page.locator('h2').first().textContent()).toContain(`Trial balance ${s.accountingDate} CNY`);
    await shot('04-trial-balance');
  });

  it('signs out: the console then asks to sign in', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in');
    await page.goto(`${baseUrl}/console`);
    expect(await page.locator('h1').textContent()).toBe('Sign in');
  });
});
