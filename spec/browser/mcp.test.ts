import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ensureBuilt, runCli, startGateway, tempHome } from '../_helpers.js';
import { launchChromium, openPopover, pageProblems, screenshot } from './_chromium.js';

const CONFIG = `# my Codex settings
model = "gpt-5.1-codex"

[mcp_servers.docs]  # the docs server
command = "npx"
args = ["-y", "@acme/docs-mcp"]
env = { DOCS_TOKEN = "kept-secret-value" }

[mcp_servers.remote]
url = "https://mcp.example.com/mcp"
bearer_token_env_var = "REMOTE_TOKEN"
`;

await ensureBuilt();
const home = await tempHome();
const configFile = path.join(home.paths.codexHome, 'config.toml');
await fs.writeFile(configFile, CONFIG);
const running = await startGateway(home);
const browser = await launchChromium();

async function cliServers(): Promise<{ name: string; enabled: boolean; transport: string; url?: string; command?: string; args?: string[] }[]> {
  const r = await runCli(['mcp', 'list', '--json'], home.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('MCP popover', () => {
  it('lists the servers in config.toml', async () => {
    const page = await openPopover(browser, running, 'mcp');
    await page.locator('li.server[data-name="remote"]').waitFor();
    assert.deepEqual(await page.locator('li.server').evaluateAll((els) => els.map((e) => e.getAttribute('data-name'))), ['docs', 'remote']);
    assert.equal(await page.locator('li.server[data-name="docs"] .server-detail').innerText(), 'npx -y @acme/docs-mcp');
    assert.equal(await page.locator('li.server[data-name="remote"] .server-detail').innerText(), 'https://mcp.example.com/mcp');
    assert.equal(await page.locator('li.server[data-name="remote"] .tag').innerText(), 'HTTP');
    assert.doesNotMatch(await page.content(), /kept-secret-value/);
    assert.deepEqual(pageProblems(page), []);
    await screenshot(page, 'mcp-light');
  });

  it('turns a server off and on, as the CLI then reports', async () => {
    const page = await openPopover(browser, running, 'mcp');
    await page.locator('li.server[data-name="docs"] input[role="switch"]').click();
    await page.locator('li.server[data-name="docs"][data-enabled="false"]').waitFor();
    assert.equal((await cliServers()).find((s) => s.name === 'docs')?.enabled, false);
    assert.match(await fs.readFile(configFile, 'utf8'), /\[mcp_servers\.docs\] {2}# the docs server\n(.*\n)*enabled = false/);
    await page.locator('li.server[data-name="docs"] input[role="switch"]').click();
    await page.locator('li.server[data-name="docs"][data-enabled="true"]').waitFor();
    assert.equal((await cliServers()).find((s) => s.name === 'docs')?.enabled, true);
    // Off and on again gives back the user's bytes.
    assert.equal(await fs.readFile(configFile, 'utf8'), CONFIG);
  });

  it('shows validation errors under the fields, then adds a valid server', async () => {
    const page = await openPopover(browser, running, 'mcp');
    await page.click('[data-testid="mcp-add"]');
    const form = page.locator('[data-testid="mcp-form"]');
    await form.locator('input[name="name"]').fill('tracker');
    await form.locator('[role="radio"][data-value="http"]').click();
    await form.locator('input[name="url"]').fill('ftp://tracker.example.com');
    await form.locator('[data-testid="mcp-save"]').click();
    await form.locator('.field-error').waitFor();
    const invalid = form.locator('.field[data-invalid="true"]');
    assert.equal(await invalid.count(), 1);
    assert.equal(await invalid.locator('input').getAttribute('name'), 'url');
    assert.equal(await invalid.locator('.field-error').innerText(), 'must be an http(s) URL');
    await screenshot(page, 'mcp-invalid');
    await form.locator('input[name="url"]').fill('https://tracker.example.com/mcp');
    await form.locator('input[name="bearerTokenEnvVar"]').fill('TRACKER_TOKEN');
    await form.locator('[data-testid="mcp-save"]').click();
    await page.locator('li.server[data-name="tracker"]').waitFor();
    const added = (await cliServers()).find((s) => s.name === 'tracker');
    assert.equal(added?.url, 'https://tracker.example.com/mcp');
    await screenshot(page, 'mcp-added');
  });

  it('edits a server and removes one after asking', async () => {
    const page = await openPopover(browser, running, 'mcp');
    await page.locator('li.server[data-name="docs"] [data-testid="mcp-edit"]').click();
    const form = page.locator('li.server [data-testid="mcp-form"]');
    assert.match(await form.innerText(), /Values are kept \(DOCS_TOKEN\)/);
    await form.locator('textarea[name="args"]').fill('-y\n@acme/docs-mcp@2');
    await form.locator('[data-testid="mcp-save"]').click();
    await page.locator('li.server[data-name="docs"] .server-detail').waitFor();
    assert.deepEqual((await cliServers()).find((s) => s.name === 'docs')?.args, ['-y', '@acme/docs-mcp@2']);
    assert.match(await fs.readFile(configFile, 'utf8'), /env = \{ DOCS_TOKEN = "kept-secret-value" \}/);

    await page.locator('li.server[data-name="remote"] [data-testid="mcp-remove"]').click();
    await page.locator('li.server[data-name="remote"] [data-testid="confirm"]').click();
    await page.locator('li.server[data-name="remote"]').waitFor({ state: 'detached' });
    assert.equal((await cliServers()).some((s) => s.name === 'remote'), false);
  });
});
