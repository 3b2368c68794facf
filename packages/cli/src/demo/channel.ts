// The demo's control channel between dom0 and a domU: @zcopy/xenstore's JsonChannel in the domU's xenstore
// data directory (the guest may write there, dom0 anywhere).
import { JsonChannel, type JsonReply, type XenStore } from '@zcopy/xenstore';

export type Reply<T> = JsonReply<T>;

export class Channel extends JsonChannel {
  constructor(
    xs: XenStore,
    readonly domid: number,
  ) {
    super(xs, `/local/domain/${domid}/data/zcopy-demo`, `domain ${domid}`);
  }
}
