import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { StateContext } from '../context.js';
import { UserError } from '../user-error.js';

/**
 * Codex Skills shipped in the package's `skills/` folder, installed into
 * `$CODEX_HOME/skills/NAME/` (codex-protocol.md). AI Gate removes only the
 * skills it ships: a skill the user wrote is theirs.
 */
export class SkillError extends UserError {}

export interface SkillInfo {
  name: string;
  description: string;
  bundled: boolean;
  installed: boolean;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * The package root holds package.json (name "aigate") and skills/. Walk up from
 * this module: the CLI bundle runs from dist/cli/, tests from src/state/codex/, the tray from dist/tray/.
 */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(path.join(dir, 'skills'))) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'aigate') return dir;
      } catch {
        // not our package.json; keep walking
      }
    }
    if (path.dirname(dir) === dir) throw new SkillError(`AI Gate's package folder (with skills/) was not found above ${from}; reinstall AI Gate`, 500);
  }
}

export function bundledSkillsDir(from?: string): string {
  return path.join(packageRoot(from), 'skills');
}

/** SKILL.md's YAML front matter: `name` and `description`. */
export function readFrontMatter(text: string, file: string): { name: string; description: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!match) throw new SkillError(`${file} has no YAML front matter (a block between --- lines at the top)`, 500);
  let data: unknown;
  try {
    data = parseYaml(match[1]!);
  } catch (err) {
    throw new SkillError(`${file}: front matter is not valid YAML (${(err as Error).message.split('\n')[0]})`, 500);
  }
  const { name, description } = (data ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || typeof description !== 'string') throw new SkillError(`${file}: front matter needs string fields name and description`, 500);
  return { name, description };
}

async function skillsIn(dir: string): Promise<Map<string, { description: string }>> {
  const found = new Map<string, { description: string }>();
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw err;
  }
  for (const name of names.filter((n) => NAME.test(n)).sort()) {
    const file = path.join(dir, name, 'SKILL.md');
    const text = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    try {
      found.set(name, { description: readFrontMatter(text, file).description });
    } catch {
      found.set(name, { description: '(SKILL.md front matter unreadable)' });
    }
  }
  return found;
}

const installedDir = (ctx: StateContext) => path.join(ctx.paths.codexHome, 'skills');

export async function listSkills(ctx: StateContext, bundleDir = bundledSkillsDir()): Promise<SkillInfo[]> {
  const [bundled, installed] = await Promise.all([skillsIn(bundleDir), skillsIn(installedDir(ctx))]);
  const names = [...new Set([...bundled.keys(), ...installed.keys()])].sort();
  return names.map((name) => ({
    name,
    description: (bundled.get(name) ?? installed.get(name))!.description,
    bundled: bundled.has(name),
    installed: installed.has(name),
  }));
}

function checkSkillName(name: string): string {
  if (!NAME.test(name)) throw new SkillError(`"${String(name).slice(0, 80)}" is not a skill name: lowercase letters, digits and "-"`);
  return name;
}

/** Copies a bundled skill into $CODEX_HOME/skills/NAME, replacing an older copy whole. */
export async function installSkill(ctx: StateContext, name: string, bundleDir = bundledSkillsDir()): Promise<{ name: string; path: string; replaced: boolean }> {
  checkSkillName(name);
  const source = path.join(bundleDir, name);
  if (!existsSync(path.join(source, 'SKILL.md'))) {
    const known = [...(await skillsIn(bundleDir)).keys()].join(', ') || 'none';
    throw new SkillError(`AI Gate ships no skill "${name}" (bundled: ${known})`, 404);
  }
  readFrontMatter(await fs.readFile(path.join(source, 'SKILL.md'), 'utf8'), path.join(source, 'SKILL.md'));
  const target = path.join(installedDir(ctx), name);
  const staging = path.join(installedDir(ctx), `.${name}.aigate-tmp`);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(installedDir(ctx), { recursive: true });
  await fs.cp(source, staging, { recursive: true });
  const replaced = existsSync(target);
  // Swap in the complete copy: Codex never sees a half-copied skill.
  if (replaced) await fs.rm(target, { recursive: true, force: true });
  await fs.rename(staging, target);
  return { name, path: target, replaced };
}

export async function removeSkill(ctx: StateContext, name: string, bundleDir = bundledSkillsDir()): Promise<{ name: string; path: string }> {
  checkSkillName(name);
  const target = path.join(installedDir(ctx), name);
  if (!existsSync(target)) throw new SkillError(`skill "${name}" is not installed in ${installedDir(ctx)}`, 404);
  if (!existsSync(path.join(bundleDir, name))) {
    throw new SkillError(`skill "${name}" was not installed by AI Gate (it ships no skill by that name); remove ${target} yourself if you mean to`, 409);
  }
  await fs.rm(target, { recursive: true, force: true });
  return { name, path: target };
}
