// Typed view of the xen-evtchn addon (raw bindings: numbers in, numbers out; no policy here).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBinding } from '@zcopy/core/internal';

export interface EvtchnBinding {
  bindVirq(fd: number, virq: number): number;
  bindInterdomain(fd: number, remoteDomid: number, remotePort: number): number;
  bindUnboundPort(fd: number, remoteDomid: number): number;
  unbind(fd: number, port: number): void;
  notify(fd: number, port: number): void;
  reset(fd: number): void;
  restrictDomid(fd: number, domid: number): void;
  /** Ports that fired (empty when none); each stays masked until unmask(). Throws EFBIG on ring overflow. */
  readPending(fd: number): Uint32Array;
  unmask(fd: number, ports: Uint32Array): void;
  constants: Record<'DOMID_SELF' | 'DOMID_FIRST_RESERVED', number>;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const binding: EvtchnBinding = loadBinding<EvtchnBinding>(packageDir, 'zcopy_xen_evtchn');
