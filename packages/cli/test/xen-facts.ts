// Xen facts read directly (not through the doctor), for the tests to compare against.
import { existsSync, readFileSync } from 'node:fs';
import { isDom0 } from '@zcopy/xen';

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim() : null);

/** Running as a Xen domain (the rig's --mode xen boots the guest as dom0). */
export const onXen = read('/sys/hypervisor/type') === 'xen';

export function xenFacts() {
  const features = read('/sys/hypervisor/properties/features');
  return {
    guestType: read('/sys/hypervisor/guest_type'),
    dom0: isDom0(),
    // XENFEAT_auto_translated_physmap = bit 2 of the lowest 32-bit submap (the last 8 hex digits).
    autoTranslated: features === null ? null : (Number.parseInt(features.slice(-8), 16) & 4) !== 0,
  };
}
