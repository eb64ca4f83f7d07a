/**
 * The popovers get everything from the admin API over HTTP; the only thing
 * they cannot do by themselves is hide their frameless window.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC, type TrayBridge } from './ipc.js';

const bridge: TrayBridge = { hide: () => ipcRenderer.send(IPC.hidePopover) };
contextBridge.exposeInMainWorld('aigateTray', bridge);
