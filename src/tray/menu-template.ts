import type { MenuItemConstructorOptions } from 'electron';
import type { MenuItem, TrayAction } from './menu-model.js';

/** The menu model's plain tree as Electron menu items (types only: this runs under Node in tests); clicks go to `onAction`. */
export function template(items: MenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { id: item.id, type: 'separator' };
    const base = { id: item.id, label: item.label, enabled: item.enabled ?? true, toolTip: item.toolTip };
    if (item.type === 'submenu') return { ...base, submenu: template(item.submenu ?? [], onAction) };
    const action = item.action;
    const click = action ? () => onAction(action) : undefined;
    return item.type === 'checkbox' ? { ...base, type: 'checkbox', checked: !!item.checked, click } : { ...base, click };
  });
}
