import path from 'node:path';
import type { TrayIconState } from './menu-model.js';

const TEMPLATE_NAMES: Record<TrayIconState, string> = { off: 'trayOffTemplate.png', on: 'trayOnTemplate.png', exhausted: 'trayExhaustedTemplate.png' };

/**
 * The tray image for a state (drawn by build/icons.js). macOS tints black
 * "…Template" images for light and dark menu bars; Windows and Linux get the
 * coloured ones. Electron picks the `@2x` file beside each on HiDPI screens.
 */
export function trayIconFile(assets: string, state: TrayIconState, platform: NodeJS.Platform): string {
  return path.join(assets, platform === 'darwin' ? TEMPLATE_NAMES[state] : `tray-${state}.png`);
}

export const appIconFile = (assets: string) => path.join(assets, 'icon.png');
