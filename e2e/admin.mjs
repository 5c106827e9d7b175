// Admin console scenarios, as an administrator works in a real Chromium:
//
//   1. the dashboard renders its charts (inline <svg> with data points), then find a user by
//      search, disable them, and see that they can no longer sign in; read the audit entry
//   2. register a client in the console and complete a code flow with it (a second RP)
//
// A screenshot of every console page is written to the work folder (for reviewing the
// pages). Helpers (`kit`) come from run.mjs so both files share one way of driving pages.

export const ADMIN_EMAIL = 'admin-e2e@example.com';
export const ADMIN_PASSWORD = 'granite osprey tuesday lantern';
export const VICTIM_EMAIL = 'disable-me@example.com';
export const VICTIM_PASSWORD = 'marble comet pickle harbor';

export const ADMIN_SCENARIOS = [
  'admin: dashboard chart, find and disable a user, audit entry',
  'admin: register a client and complete a code flow with it',
];

async function signInAsAdmin(kit, ctx, page) {
  await page.goto(`${ctx.issuer}/login`);
  await kit.submit(page, await kit.fillLogin(page, ADMIN_EMAIL, ADMIN_PASSWORD));
  await kit.expectAt(page, ctx.issuer, '/account', 'the account page after the admin signed in');
  await kit.submit(page, page.getByRole('link', { name: 'Open the admin console' }));
  await kit.expectAt(page, ctx.issuer, '/admin', 'the admin dashboard');
}

async function shot(kit, page, name) {
  const file = kit.tmpPath(`admin-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  kit.log(`screenshot: ${file}`);
}

export async function scenarioAdminUsers(kit, ctx) {
  const context = await kit.browser().newContext();
  try {
    context.setDefaultTimeout(kit.STEP_TIMEOUT_MS);
    const page = await kit.newPage(context);
    kit.step('admin: sign in through the hosted login, open the console');
    await signInAsAdmin(kit, ctx, page);
    const bars = page.locator('main svg rect.bar[data-value]');
    if ((await page.locator('main svg').count()) === 0 || (await bars.count()) === 0) {
      throw new Error(`the dashboard has no <svg> chart with data points: ${await kit.bodyText(page)}`);
    }
    // The admin's own sign-in happened today: some bar holds a non-zero value.
    const values = await bars.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
    if (!values.some((v) => v > 0)) throw new Error(`every chart bar is zero: ${values.join(',')}`);
    kit.log(`dashboard chart: ${values.length} bars`);
    await shot(kit, page, 'dashboard');

    kit.step('admin: search the user by email prefix and open them');
    await page.goto(`${ctx.issuer}/admin/users`);
    await page.locator('input[name="q"]').fill(VICTIM_EMAIL.slice(0, 10));
    await kit.submit(page, page.locator('form.filters button[type="submit"]'));
    await shot(kit, page, 'users');
    await kit.submit(page, page.getByRole('link', { name: VICTIM_EMAIL }));
    await shot(kit, page, 'user');

    kit.step('admin: disable the user');
    await kit.submit(page, page.getByRole('button', { name: /^Disable/ }));
    const after = await page.locator('body').innerText();
    if (!/disabled/i.test(after)) throw new Error(`the user page does not say disabled: ${await kit.bodyText(page)}`);

    kit.step('admin: the disabled user can no longer sign in');
    const other = await kit.browser().newContext();
    try {
      const userPage = await kit.newPage(other);
      await userPage.goto(`${ctx.issuer}/login`);
      await kit.submit(userPage, await kit.fillLogin(userPage, VICTIM_EMAIL, VICTIM_PASSWORD));
      await kit.expectAt(userPage, ctx.issuer, '/login', 'the login page again');
      if (!(await userPage.locator('body').innerText()).includes('Invalid email or password')) {
        throw new Error(`a disabled user was not refused: ${await kit.bodyText(userPage)}`);
      }
    } finally {
      await other.close().catch(() => {});
    }

    kit.step('admin: the audit log shows the disabling, by this admin');
    await page.goto(`${ctx.issuer}/admin/audit?kind=user.disabled`);
    const row = page.locator('table tbody tr').filter({ hasText: 'user.disabled' });
    if ((await row.count()) === 0) throw new Error(`no user.disabled entry: ${await kit.bodyText(page)}`);
    const text = await row.first().innerText();
    if (!text.includes(ADMIN_EMAIL) && !text.includes(ctx.adminId)) {
      throw new Error(`the entry does not name the admin as actor: ${text}`);
    }
    await shot(kit, page, 'audit');
    for (const [name, path] of [['sessions', '/admin/sessions'], ['keys', '/admin/keys'], ['roles', '/admin/roles'], ['clients', '/admin/clients']]) {
      await page.goto(`${ctx.issuer}${path}`);
      if (kit.lastStatus(page) !== 200) throw new Error(`${path} answered ${kit.lastStatus(page)}`);
      await shot(kit, page, name);
    }
  } catch (err) {
    await kit.failureShot(context, 'admin-users');
    throw err;
  } finally {
    await context.close().catch(() => {});
  }
}

export async function scenarioAdminClient(kit, ctx) {
  const context = await kit.browser().newContext();
  let rp2 = null;
  try {
    context.setDefaultTimeout(kit.STEP_TIMEOUT_MS);
    const page = await kit.newPage(context);
    kit.step('admin: register a client in the console');
    await signInAsAdmin(kit, ctx, page);
    const [port] = await kit.freePorts(1);
    const rpUrl = `http://127.0.0.1:${port}`;
    await page.goto(`${ctx.issuer}/admin/clients/new`);
    await page.locator('input[name="name"]').fill('Console app');
    await page.locator('textarea[name="redirect_uris"]').fill(`${rpUrl}/cb`);
    await page.locator('input[name="skip_consent"]').check();
    await kit.submit(page, page.getByRole('button', { name: 'Register' }));
    const clientId = (await page.locator('#client-id').innerText()).trim();
    const secret = (await page.locator('#client-secret').innerText()).trim();
    if (!clientId || !secret) throw new Error(`no client id or secret on the page: ${await kit.bodyText(page)}`);
    await shot(kit, page, 'client');

    kit.step('admin: complete a code flow with the new client');
    rp2 = await kit.startRp({ issuer: ctx.issuer, clientId, clientSecret: secret, port });
    await page.goto(`${rp2.url}/`);
    await kit.expectAt(page, rp2.url, '/cb', "the new client's callback (first-party: no consent)");
    const text = await page.locator('body').innerText();
    if (!text.includes(`Signed in as ${ADMIN_EMAIL}`)) {
      throw new Error(`the new client did not sign the admin in: ${await kit.bodyText(page)}`);
    }
  } catch (err) {
    await kit.failureShot(context, 'admin-client');
    throw err;
  } finally {
    if (rp2) await rp2.close().catch(() => {});
    await context.close().catch(() => {});
  }
}
