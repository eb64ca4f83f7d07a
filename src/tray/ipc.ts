/** The one IPC channel between the popover pages and the main process, and what the preload exposes for it. */
export const IPC = {
  /** The page asks to hide its popover (Escape). No arguments. */
  hidePopover: 'aigate:hide-popover',
} as const;

/** `window.aigateTray` in a popover shown by the tray; absent in a normal browser. */
export interface TrayBridge {
  hide(): void;
}
